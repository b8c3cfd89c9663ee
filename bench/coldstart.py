"""Benchmark: cold start. A fresh interpreter imports the handler and serves its first change
event, delivering to the loopback emulator (in another process): rulekit vs the hand-written
handler. Wall time of the whole process and its peak RSS, medians of N runs, as ratios."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from .common import HERE, credentials_env, emulator_process, median

RUNS = 15
TARGET = 1.3
EVENT = json.dumps({
    "orderingTimestamp": 1700000000123, "resultToken": "bench-result-token-0123456789",
    "ruleParameters": {"imageIds": "m-approved,m-other2"},
    "invokingEvent": {"messageType": "ConfigurationItemChangeNotification",
                      "configurationType": "COMMON", "accountId": 1000000000001234,
                      "configurationItem": {
                          "accountId": 1000000000001234, "regionId": "cn-hangzhou",
                          "resourceId": "i-bench0000001", "resourceType": "ACS::ECS::Instance",
                          "resourceName": "web-1", "tags": "{\"env\":[\"prod\"]}",
                          "configuration": json.dumps({"ImageId": "m-approved", "Cpu": 4})}}})

CHILD = r"""
import json, resource, sys, types
{import_line}
context = types.SimpleNamespace(request_id="r", region="cn-hangzhou", account_id="1",
    function=types.SimpleNamespace(name="f", handler="index.handler", memory=512, timeout=60),
    credentials=types.SimpleNamespace(access_key_id=sys.argv[1], access_key_secret=sys.argv[2],
                                      security_token=sys.argv[3]))
handler(sys.stdin.buffer.read(), context)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

VARIANTS = {
    "handwritten": "sys.path.insert(0, {here!r}); from handwritten import handler",
    "rulekit": "from rulekit.handler import handler",
}


def _once(variant: str, env: dict[str, str]) -> tuple[float, int]:
    code = CHILD.format(import_line=VARIANTS[variant].format(here=str(HERE)))
    creds = [env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
             env["ALIBABA_CLOUD_SECURITY_TOKEN"]]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *creds], input=EVENT.encode(),
                          capture_output=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed: {done.stderr.decode()[-800:]}")
    return seconds, int(done.stdout.decode().split()[-1])


def run(runs: int = RUNS) -> dict[str, Any]:
    with emulator_process() as url:
        env = {**os.environ, **credentials_env(url), "RULEKIT_LOAD_PLUGINS": "ecs",
               "RULEKIT_RULE": "ecs-instance-image-check"}
        samples: dict[str, list[tuple[float, int]]] = {v: [] for v in VARIANTS}
        for _ in range(runs):  # interleaved, so drift hits both alike
            for variant in VARIANTS:
                samples[variant].append(_once(variant, env))
    wall = {v: median([s[0] for s in samples[v]]) for v in VARIANTS}
    rss = {v: median([s[1] for s in samples[v]]) for v in VARIANTS}
    wall_ratio = wall["rulekit"] / wall["handwritten"]
    rss_ratio = rss["rulekit"] / rss["handwritten"]
    return {
        "name": "cold start (first change event)",
        "rulekit_ms": round(wall["rulekit"] * 1000, 1),
        "handwritten_ms": round(wall["handwritten"] * 1000, 1),
        "wall_ratio": round(wall_ratio, 3),
        "rulekit_rss_mb": round(rss["rulekit"] / 1024, 1),
        "handwritten_rss_mb": round(rss["handwritten"] / 1024, 1),
        "rss_ratio": round(rss_ratio, 3),
        "target": f"<= {TARGET} both",
        "ok": wall_ratio <= TARGET and rss_ratio <= TARGET,
    }


if __name__ == "__main__":
    print(run())
