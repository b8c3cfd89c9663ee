"""Benchmark: ``rulekit test`` on 1,000 fixture cases, start-up included (target < 2 s on one
core). Runs the real console entry point in a fresh interpreter, pinned to one CPU; side by side,
in the same rounds, a hand-written check of the same file (PyYAML and a loop, no framework)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CASES = 1000
TARGET_SECONDS = 2.0


def _fixture(cases: int) -> str:
    lines = ["rule: ecs-cpu-min-count-limit", 'params: {cpuCount: "4"}', "cases:"]
    for n in range(cases):
        cpu, expect = (8, "COMPLIANT") if n % 2 else (2, "NON_COMPLIANT")
        lines.append(
            f"  - name: case {n}\n    resource: {{id: i-{n:05d}, configuration: "
            f"{{Cpu: {cpu}, InstanceType: ecs.g7.large}}}}\n    expect: {expect}"
        )
    return "\n".join(lines) + "\n"


# What a user without rulekit would write to check the same cases: load, judge, compare.
HANDWRITTEN = r"""
import sys, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
with open(sys.argv[1]) as f:
    doc = yaml.load(f, Loader=loader)
minimum = int(doc["params"]["cpuCount"])
passed = failed = 0
for case in doc["cases"]:
    cpu = case["resource"]["configuration"].get("Cpu")
    got = "COMPLIANT" if cpu is not None and cpu >= minimum else "NON_COMPLIANT"
    if got == case["expect"]:
        passed += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed")
"""


def _command(folder: Path, handwritten: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "rulekit", "test", str(folder)]
    if handwritten:
        cmd = [sys.executable, "-c", HANDWRITTEN, str(folder / "bench.rulekit.yaml")]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    return cmd


def run(repeat: int = 5) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench.rulekit.yaml").write_text(_fixture(CASES))
        env = {**os.environ, "RULEKIT_LOAD_PLUGINS": "ecs"}
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeat):
            for handwritten in (False, True):
                started = time.perf_counter()
                done = subprocess.run(
                    _command(folder, handwritten), capture_output=True, text=True, env=env
                )
                times[handwritten].append(time.perf_counter() - started)
                if done.returncode != 0 or f"{CASES} passed, 0 failed" not in done.stdout:
                    raise RuntimeError(f"test run failed: {done.stdout[-500:]}{done.stderr}")
    median = statistics.median(times[False])
    return {
        "name": "rulekit test, 1,000 cases",
        "median_s": round(median, 3),
        "best_s": round(min(times[False]), 3),
        "handwritten_median_s": round(statistics.median(times[True]), 3),
        "per_case_ms": round(median / CASES * 1000, 3),
        "target": f"< {TARGET_SECONDS} s",
        "ok": median < TARGET_SECONDS,
    }


if __name__ == "__main__":
    print(run())
