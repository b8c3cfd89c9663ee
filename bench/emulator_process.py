"""Run a ConfigEmulator in its own process (so its memory is not the measured process's):
prints its URL, serves until stdin closes. ``--resources N`` preloads N ECS instances."""

import sys

from rulekit.testing import ConfigEmulator


def main() -> None:
    count = int(sys.argv[sys.argv.index("--resources") + 1]) if "--resources" in sys.argv else 0
    emulator = ConfigEmulator().start()
    for n in range(count):
        emulator.store.add(
            "ACS::ECS::Instance",
            f"i-bench{n:07d}",
            region="cn-hangzhou",
            configuration={
                "ImageId": "m-approved" if n % 3 else "m-other",
                "InstanceType": "ecs.g7.large",
                "Cpu": 4,
                "Padding": "x" * 512,
            },
        )
    print(emulator.url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    emulator.stop()


if __name__ == "__main__":
    main()
