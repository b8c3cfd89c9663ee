"""Benchmark: a whole warm invocation, the network excluded. The FC entry point of each handler
runs as FC calls it (event bytes, an FC context, settings from the environment), through the
real aliyun-python-sdk-core up to the socket: the request is built and signed, and only the HTTP
exchange is replaced by a canned 200 reply. This is what a warm invocation costs besides the
network; ``warm`` isolates the framework's own share of it.

Two hand-written baselines: the samples' style (an SDK client built per invocation) and a
careful one that keeps its client across warm invocations."""

from __future__ import annotations

import contextlib
import json
import os
import timeit
import types
from collections.abc import Callable, Iterator
from typing import Any

from rulekit.testing import TEST_CREDENTIALS

from . import handwritten
from .common import credentials_env
from .warm import _events

NUMBER, REPEAT = 300, 7
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


def _per_call(handler: Callable[[bytes, Any], dict[str, Any]], context: Any) -> float:
    events = _events(NUMBER * (REPEAT + 1))
    summary = handler(next(events), context)
    if summary.get("delivered") != 1:
        raise RuntimeError(f"{handler.__module__} did not deliver: {json.dumps(summary)}")
    best = min(timeit.repeat(lambda: handler(next(events), context), number=NUMBER, repeat=REPEAT))
    return best / NUMBER


def run() -> dict[str, Any]:
    from rulekit.handler import handler

    env = {
        **credentials_env(_NEVER_CONTACTED),
        "RULEKIT_RULE": "ecs-instance-image-check",
        "RULEKIT_LOAD_PLUGINS": "ecs",
    }
    context = _fc_context()
    with _environment(env), _without_network():
        rulekit_s = _per_call(handler, context)
        sample_s = _per_call(handwritten.handler, context)
        careful_s = _per_call(handwritten.handler_reusing_client, context)
    ratio = rulekit_s / careful_s
    return {
        "name": "warm invocation (network excluded)",
        "rulekit_us": round(rulekit_s * 1e6, 1),
        "handwritten_sample_us": round(sample_s * 1e6, 1),
        "handwritten_reusing_client_us": round(careful_s * 1e6, 1),
        "ratio_vs_sample": round(rulekit_s / sample_s, 2),
        "ratio_vs_reusing_client": round(ratio, 2),
        "target": f"ratio <= {TARGET} vs either hand-written handler",
        "ok": ratio <= TARGET and rulekit_s <= sample_s * TARGET,
    }


if __name__ == "__main__":
    print(run())
