"""Run a ConfigEmulator in its own process (so its memory is not the measured process's):
prints its URL, serves until stdin closes. ``--resources N`` preloads N ECS instances;
``--round-trip S`` holds every request S seconds before it is answered, a simulated network
round trip (requests are served on their own threads, so concurrent ones overlap);
``--quota ACTION=Q`` throttles ACTION beyond Q requests/s. When stdin closes it prints, per
action, the calls received, answered and throttled and the span of the answered ones (JSON)."""

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
    quota = {}
    if "--quota" in sys.argv:
        action, per_second = sys.argv[sys.argv.index("--quota") + 1].split("=")
        quota[action] = float(per_second)
    emulator = ConfigEmulator(quota=quota).start()
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
    stats: dict[str, dict[str, float]] = {}
    for call in emulator.calls:
        seen = stats.setdefault(
            call.action, {"calls": 0, "ok": 0, "throttled": 0, "first": 0, "last": 0}
        )
        seen["calls"] += 1
        if call.ok:
            seen["ok"] += 1
            seen["first"] = min(seen["first"] or call.at, call.at)
            seen["last"] = max(seen["last"], call.at)
        elif (call.code or "").startswith("Throttling"):
            seen["throttled"] += 1
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
