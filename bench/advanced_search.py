"""Benchmark: a sweep of 10,000 ECS instances with a 30 ms simulated round trip on every request,
API calls per 1,000 resources and wall/CPU time, side by side in one run: rulekit's sweep by
advanced search, the same rule and sweep per resource (RULEKIT_ADVANCED_SEARCH=false), and the
hand-written loop of bench/handwritten_sweep.py at the same concurrency. Reads are the calls
that obtain resources and configurations (every call but PutEvaluations, which is ceil(N/100) on
all three). Target: fewer than 5 reads per 1,000 resources by advanced search (issue 16)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from .common import HERE, credentials_env
from .sweep import CHILD, CONCURRENCY, ROUND_TRIP

COUNT = 10_000
TARGET_READS_PER_1000 = 5.0


@contextlib.contextmanager
def _emulator(calls: dict[str, int]) -> Iterator[str]:
    """An emulator process with COUNT instances; ``calls`` gets its calls per action at exit."""
    command = [
        sys.executable,
        str(HERE / "emulator_process.py"),
        "--resources",
        str(COUNT),
        "--round-trip",
        str(ROUND_TRIP),
    ]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        url = child.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator did not start: {url!r}")
        yield url
    finally:
        child.stdin.close()
        stats = json.loads(child.stdout.readline() or "{}")
        calls.update({action: int(seen["calls"]) for action, seen in stats.items()})
        child.wait(timeout=60)


def _run(url: str, variant: str, search: bool) -> dict[str, Any]:
    env = {
        **os.environ,
        **credentials_env(url),
        "RULEKIT_LOAD_PLUGINS": "",
        "RULEKIT_RULES": "bench.advanced_search_rule",
        "RULEKIT_SWEEP_CONCURRENCY": str(CONCURRENCY),
        "RULEKIT_ADVANCED_SEARCH": "true" if search else "false",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant, str(CONCURRENCY)],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant} sweep failed: {done.stderr[-800:]}")
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def run() -> dict[str, Any]:
    out: dict[str, Any] = {"name": f"advanced search, {COUNT:,} resources, 30 ms round trip"}
    ok = True
    variants = {
        "search": ("rulekit", True),
        "per_resource": ("rulekit", False),
        "loop": ("loop", False),
    }
    for name, (variant, search) in variants.items():
        calls: dict[str, int] = {}
        with _emulator(calls) as url:
            summary = _run(url, variant, search)
        reads = sum(n for action, n in calls.items() if action != "PutEvaluations")
        ok = ok and summary["delivered"] == COUNT
        out[f"{name}_reads_per_1000"] = round(reads / COUNT * 1000, 1)
        out[f"{name}_put_calls"] = calls.get("PutEvaluations", 0)
        out[f"{name}_wall_s"] = round(summary["seconds"], 2)
        out[f"{name}_cpu_s"] = round(summary["cpu_seconds"], 2)
        if name == "search":
            out["search_calls"] = dict(sorted(calls.items()))
    out["wall_ratio_search_vs_loop"] = round(out["search_wall_s"] / out["loop_wall_s"], 3)
    out["target"] = f"search reads per 1,000 < {TARGET_READS_PER_1000:g}"
    out["ok"] = ok and out["search_reads_per_1000"] < TARGET_READS_PER_1000
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
