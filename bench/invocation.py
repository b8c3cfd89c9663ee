"""Benchmark: a whole warm invocation as a user pays for it. The FC entry point of each handler
runs as FC calls it (event bytes, an FC context, settings from the environment), up to the
socket (the baselines through aliyun-python-sdk-core, rulekit through its own signer): the
request is built and signed, and the HTTP exchange is replaced by a canned 200 reply after a
simulated network round trip (10 ms, the low end of what PutEvaluations takes from FC). Target:
rulekit / the careful hand-written handler <= 1.05, i.e. the framework is invisible next to the
network. The same without the round trip is reported as information (``warm`` isolates the
framework's own share of that).

Logging is set up as FC's Python runtime sets it: the root logger at INFO with a handler (here
writing to /dev/null), so the line rulekit logs per invocation is paid for, as it is on FC;
rulekit is also measured with logging off.

Two hand-written baselines: the samples' style (an SDK client built per invocation) and a
careful one that keeps its client across warm invocations. Neither logs anything."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

from rulekit.testing import TEST_CREDENTIALS

from . import handwritten
from .common import credentials_env, interleaved, paired_ratio
from .warm import _events

NUMBER, REPEAT = 20, 15
TARGET = 1.05
ROUND_TRIP = 0.010  # seconds: the simulated network round trip of one PutEvaluations
_NEVER_CONTACTED = "http://127.0.0.1:9"  # loopback "discard": only reached if the patch failed


@contextlib.contextmanager
def _without_network(round_trip: float = 0.0) -> Iterator[None]:
    """Replace the HTTP exchange, the SDK's (the baselines) and rulekit's own (it signs and sends
    requests itself since issue 16), with a canned reply after ``round_trip`` seconds."""
    from aliyunsdkcore.http import http_response

    from rulekit._http import Connections

    def exchange(self: Any) -> tuple[int, dict[str, str], bytes]:
        if round_trip:
            time.sleep(round_trip)
        return 200, {"Content-Type": "application/json"}, b'{"RequestId":"bench-request"}'

    def post(self: Connections, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return exchange(self)[::2]

    sent = http_response.HttpResponse.get_response_object, Connections.post
    http_response.HttpResponse.get_response_object = exchange
    Connections.post = post  # type: ignore[method-assign]
    try:
        yield
    finally:
        http_response.HttpResponse.get_response_object, Connections.post = sent


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _fc_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    with open(os.devnull, "w") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


def _handler_env() -> dict[str, str]:
    """The function's environment: credentials, an endpoint never contacted, the bench rule."""
    return {
        **credentials_env(_NEVER_CONTACTED),
        "RULEKIT_RULE": "ecs-instance-image-check",
        "RULEKIT_LOAD_PLUGINS": "ecs",
    }


def _fc_context() -> Any:
    return types.SimpleNamespace(
        request_id="bench-request",
        region="cn-hangzhou",
        account_id="1000000000001234",
        function=types.SimpleNamespace(
            name="rule", handler="index.handler", memory=512, timeout=60
        ),
        credentials=types.SimpleNamespace(
            access_key_id=TEST_CREDENTIALS.access_key_id,
            access_key_secret=TEST_CREDENTIALS.access_key_secret,
            security_token=TEST_CREDENTIALS.security_token,
        ),
    )


def _invoke(handler: Callable[[bytes, Any], Any], events: Iterator[bytes], context: Any) -> None:
    handler(next(events), context)


Handler = Callable[[bytes, Any], dict[str, Any]]


def _per_call(
    variants: dict[str, tuple[Handler, int]], context: Any, number: int, rounds: int
) -> dict[str, list[float]]:
    """``rounds`` interleaved rounds of ``number`` calls each. Each variant names the root
    logger's level it runs at."""
    root = logging.getLogger()
    events = _events(number * (rounds + 1) * len(variants))
    for name, (handler, level) in variants.items():  # warm-up, and proof that it delivers
        root.setLevel(level)
        summary = handler(next(events), context)
        if summary.get("delivered") != 1:
            raise RuntimeError(f"{name} did not deliver: {json.dumps(summary)}")
    return interleaved(
        {
            name: functools.partial(_invoke, handler, events, context)
            for name, (handler, _) in variants.items()
        },
        number=number,
        rounds=rounds,
        before=lambda name: root.setLevel(variants[name][1]),
    )


def run() -> dict[str, Any]:
    from rulekit.handler import handler

    env = _handler_env()
    context = _fc_context()
    variants = {
        "rulekit": (handler, logging.INFO),
        "sample": (handwritten.handler, logging.INFO),
        "careful": (handwritten.handler_reusing_client, logging.INFO),
    }
    with _environment(env), _fc_logging():
        with _without_network(ROUND_TRIP):
            times = _per_call(variants, context, NUMBER, REPEAT)
        with _without_network():  # information: the same with no round trip at all
            local = _per_call(variants, context, 100, 11)
    best = {name: min(values) for name, values in times.items()}
    ratio = paired_ratio(times, "rulekit", "careful")
    return {
        "name": f"warm invocation, {ROUND_TRIP * 1000:g} ms round trip",
        "rulekit_ms": round(best["rulekit"] * 1e3, 3),
        "handwritten_reusing_client_ms": round(best["careful"] * 1e3, 3),
        "handwritten_sample_ms": round(best["sample"] * 1e3, 3),
        "ratio": round(ratio, 3),  # median of the per-round ratios
        "ratio_vs_sample": round(paired_ratio(times, "rulekit", "sample"), 3),
        "no_network_rulekit_us": round(min(local["rulekit"]) * 1e6, 1),
        "no_network_handwritten_us": round(min(local["careful"]) * 1e6, 1),
        "no_network_ratio_info": round(paired_ratio(local, "rulekit", "careful"), 2),
        "target": f"ratio <= {TARGET} vs the hand-written handler keeping its client",
        "ok": ratio <= TARGET,
    }


if __name__ == "__main__":
    print(run())
