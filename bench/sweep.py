"""Benchmark: a periodic sweep of N resources served by the emulator (in its own process):
throughput, PutEvaluations calls (must be exactly ceil(N/100)) and the sweeping process's peak
RSS at 1,000 and at N resources (the growth must stay under 50 MB: memory is flat)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from typing import Any

from .common import PEAK_RSS_KB, credentials_env, emulator_process

GROWTH_TARGET_MB = 50.0

CHILD = (
    r"""
import json, sys, time, types
from rulekit.handler import run
from rulekit.testing import scheduled_event
context = types.SimpleNamespace(request_id="r", region="cn-hangzhou", account_id="1",
    function=types.SimpleNamespace(name="f", handler="index.handler", memory=3072, timeout=86400),
    credentials=types.SimpleNamespace(access_key_id=sys.argv[1], access_key_secret=sys.argv[2],
                                      security_token=sys.argv[3]))
started = time.perf_counter()
summary = run(scheduled_event(), context)
summary["seconds"] = time.perf_counter() - started
summary["max_rss_kb"] = """
    + PEAK_RSS_KB
    + """
print(json.dumps(summary))
"""
)


def _sweep(count: int) -> dict[str, Any]:
    with emulator_process(resources=count) as url:
        env = {
            **os.environ,
            **credentials_env(url),
            "RULEKIT_LOAD_PLUGINS": "",
            "RULEKIT_RULES": "bench.sweep_rule",
            "RULEKIT_SWEEP_CONCURRENCY": "4",
        }
        creds = [
            env["ALIBABA_CLOUD_ACCESS_KEY_ID"],
            env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            env["ALIBABA_CLOUD_SECURITY_TOKEN"],
        ]
        done = subprocess.run(
            [sys.executable, "-c", CHILD, *creds],
            capture_output=True,
            text=True,
            env=env,
            cwd=os.getcwd(),
        )
        if done.returncode != 0:
            raise RuntimeError(f"sweep of {count} failed: {done.stderr[-800:]}")
        summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return summary


def run(count: int = 100_000) -> dict[str, Any]:
    started = time.perf_counter()
    small = _sweep(1_000)
    large = _sweep(count)
    growth_mb = (large["max_rss_kb"] - small["max_rss_kb"]) / 1024
    calls_ok = (
        large["putEvaluationsCalls"] == math.ceil(count / 100)
        and small["putEvaluationsCalls"] == 10
    )
    return {
        "name": f"periodic sweep, {count:,} resources",
        "seconds": round(large["seconds"], 1),
        "resources_per_s": round(count / large["seconds"]),
        "put_evaluations_calls": large["putEvaluationsCalls"],
        "calls_expected": math.ceil(count / 100),
        "delivered": large["delivered"],
        "rss_1000_mb": round(small["max_rss_kb"] / 1024, 1),
        f"rss_{count}_mb": round(large["max_rss_kb"] / 1024, 1),
        "rss_growth_mb": round(growth_mb, 1),
        "target": f"calls = ceil(N/100), growth < {GROWTH_TARGET_MB:g} MB",
        "ok": calls_ok and large["delivered"] == count and growth_mb < GROWTH_TARGET_MB,
        "bench_seconds": round(time.perf_counter() - started),
    }


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
