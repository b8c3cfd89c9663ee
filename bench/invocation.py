"""Benchmark: a whole warm invocation, the network excluded. The FC entry point of each handler
runs as FC calls it (event bytes, an FC context, settings from the environment), through the
real aliyun-python-sdk-core up to the socket: the request is built and signed, and only the HTTP
exchange is replaced by a canned 200 reply. This is what a warm invocation costs besides the
network; ``warm`` isolates the framework's own share of it.

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
import types
from collections.abc import Callable, Iterator
from typing import Any

from rulekit.testing import TEST_CREDENTIALS

from . import handwritten
from .common import credentials_env, interleaved, paired_ratio
from .warm import _events

NUMBER, REPEAT = 100, 21
TARGET = 1.5
_NEVER_CONTACTED = "http://127.0.0.1:9"  # loopback "discard": only reached if the patch failed


@contextlib.contextmanager
def _without_network() -> Iterator[None]:
    from aliyunsdkcore.http import http_response

    sent = http_response.HttpResponse.get_response_object
    http_response.HttpResponse.get_response_object = lambda self: (
        200,
        {"Content-Type": "application/json"},
        b'{"RequestId":"bench-request"}',
    )
    try:
        yield
    finally:
        http_response.HttpResponse.get_response_object = sent


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


def _per_call(variants: dict[str, tuple[Handler, int]], context: Any) -> dict[str, list[float]]:
    """REPEAT interleaved rounds of NUMBER calls each. Each variant names the root logger's
    level it runs at."""
    root = logging.getLogger()
    events = _events(NUMBER * (REPEAT + 1) * len(variants))
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
        number=NUMBER,
        rounds=REPEAT,
        before=lambda name: root.setLevel(variants[name][1]),
    )


def run() -> dict[str, Any]:
    from rulekit.handler import handler

    env = _handler_env()
    context = _fc_context()
    variants = {
        "rulekit": (handler, logging.INFO),
        "rulekit_quiet": (handler, logging.WARNING),
        "sample": (handwritten.handler, logging.INFO),
        "careful": (handwritten.handler_reusing_client, logging.INFO),
    }
    with _environment(env), _without_network(), _fc_logging():
        times = _per_call(variants, context)
    best = {name: min(values) for name, values in times.items()}
    ratio = paired_ratio(times, "rulekit", "careful")
    vs_sample = paired_ratio(times, "rulekit", "sample")
    return {
        "name": "warm invocation (network excluded)",
        "rulekit_us": round(best["rulekit"] * 1e6, 1),
        "rulekit_logging_off_us": round(best["rulekit_quiet"] * 1e6, 1),
        "handwritten_sample_us": round(best["sample"] * 1e6, 1),
        "handwritten_reusing_client_us": round(best["careful"] * 1e6, 1),
        "ratio_vs_sample": round(vs_sample, 2),  # medians of the per-round ratios
        "ratio_vs_reusing_client": round(ratio, 2),
        "target": f"ratio <= {TARGET} vs either hand-written handler",
        "ok": ratio <= TARGET and vs_sample <= TARGET,
    }


if __name__ == "__main__":
    print(run())
