"""Benchmark (information only, no target): warm dispatch. The per-event work of a warm FC
instance, network excluded: decode, scope, tags, parameters, the rule, plugin hooks, evaluation
assembly and the PutEvaluations payload (JSON), vs the hand-written handler's own
decode-check-assemble. Also the cost per evaluation when one event yields 100 (a rule reporting
on many resources).

Every event carries its own result token, as on the platform: a warm instance must not get slower
with each invocation it has served (rulekit registers each token for redaction)."""

from __future__ import annotations

import base64
import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

from rulekit import Compliance, Evaluation, rule
from rulekit._dispatcher import Dispatcher
from rulekit._evaluation import encode_evaluations
from rulekit._event import decode_event
from rulekit._plugins import Plugins

from . import handwritten
from .coldstart import EVENT
from .common import interleaved, paired_ratio


class JsonSink:
    """Serialises each batch as ConfigSink does for PutEvaluations, and drops it."""

    def put(self, evaluations: Any, *, delete_mode: bool = False) -> None:
        encode_evaluations(evaluations)


def _fan_out_rule() -> Any:
    @rule(resource_type="ACS::ECS::Instance", name="bench-fan-out")
    def fan_out(resource):
        for n in range(100):
            yield Evaluation(f"d-{n:03d}", "ACS::ECS::Disk", Compliance.COMPLIANT)

    return fan_out


NUMBER, REPEAT = 1000, 15


def _events(count: int) -> Iterator[bytes]:
    """The bench event, each copy with its own result token, shaped like the platform's: the
    documented sample's is 280 characters of base64 (with "/" and "+")."""
    body = json.loads(EVENT)
    raws = []
    for n in range(count):
        body["resultToken"] = base64.b64encode(random.Random(n).randbytes(210)).decode()
        raws.append(json.dumps(body).encode())
    return itertools.cycle(raws)


def run() -> dict[str, Any]:
    plugins = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "ecs"})
    dispatcher = Dispatcher(
        plugins.rules, requested_rule="ecs-instance-image-check", hooks=plugins.hook
    )
    sink = JsonSink()
    events = _events(NUMBER * (REPEAT + 1))

    def rulekit_once() -> None:
        dispatcher.dispatch(decode_event(next(events)), sink=sink)

    def handwritten_once() -> None:
        handwritten.evaluate(next(events))

    fan = Dispatcher([_fan_out_rule()], hooks=plugins.hook)

    def fan_out_once() -> None:
        fan.dispatch(decode_event(next(events)), sink=sink)

    times = interleaved(
        {"rulekit": rulekit_once, "handwritten": handwritten_once}, number=NUMBER, rounds=REPEAT
    )
    rulekit_s, hand_s = min(times["rulekit"]), min(times["handwritten"])
    ratio = paired_ratio(times, "rulekit", "handwritten")
    fan_s = min(interleaved({"fan": fan_out_once}, number=100, rounds=REPEAT)["fan"])
    per_evaluation_us = fan_s / 100 * 1e6
    return {
        "name": "warm dispatch, network excluded (information)",
        "rulekit_us": round(rulekit_s * 1e6, 1),
        "handwritten_us": round(hand_s * 1e6, 1),
        "ratio": round(ratio, 2),  # median of the per-round ratios
        "ratio_of_best": round(rulekit_s / hand_s, 2),
        "per_evaluation_us": round(per_evaluation_us, 2),
        "target": "none: microseconds next to a 10-50 ms round trip (see invocation)",
    }


if __name__ == "__main__":
    print(run())
