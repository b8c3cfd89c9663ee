"""Run a ConfigEmulator in its own process (so its memory is not the measured process's):
prints its URL, serves until stdin closes. ``--resources N`` preloads N ECS instances;
``--round-trip S`` holds every request S seconds before it is answered, a simulated network
round trip (requests are served on their own threads, so concurrent ones overlap);
``--report-calls`` prints the calls served per action as JSON when it stops."""

import json
import sys
import time

from rulekit.testing import ConfigEmulator
from rulekit.testing._emulator import _RequestHandler


def main() -> None:
    count = int(sys.argv[sys.argv.index("--resources") + 1]) if "--resources" in sys.argv else 0
    if "--round-trip" in sys.argv:
        round_trip = float(sys.argv[sys.argv.index("--round-trip") + 1])
        answer = _RequestHandler.do_POST

        def delayed(self: _RequestHandler) -> None:
            time.sleep(round_trip)
            answer(self)

        _RequestHandler.do_POST = delayed  # type: ignore[method-assign]
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
    if "--report-calls" in sys.argv:  # the calls it served, per action (bench/advanced_search.py)
        counts: dict[str, int] = {}
        for call in emulator.calls:
            counts[call.action] = counts.get(call.action, 0) + 1
        print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
