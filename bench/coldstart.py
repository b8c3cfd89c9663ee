"""Benchmark: cold start. A fresh interpreter imports the handler and serves its first change
event, delivering to the loopback emulator (in another process): rulekit vs the hand-written
handler. Wall time of the whole process, its CPU time (user + system) and its peak RSS over N
runs of each, interleaved; the ratios are medians of the ratios of runs made back to back. CPU
time is reported beside the gated wall time because on a shared machine it moves far less: wall
time includes waiting for a core.

Both run as FC runs them: from a code folder (rulekit: the ``rulekit package`` zip; the
hand-written one: the SDK installed with pip into a folder, plus its file), both precompiled,
with ``python -I -S`` and only that folder on sys.path."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from .common import HERE, PEAK_RSS_KB, credentials_env, emulator_process, median

RUNS = 15
TARGET = 1.3
EVENT = json.dumps(
    {
        "orderingTimestamp": 1700000000123,
        "resultToken": "bench-result-token-0123456789",
        "ruleParameters": {"imageIds": "m-approved,m-other2"},
        "invokingEvent": {
            "messageType": "ConfigurationItemChangeNotification",
            "configurationType": "COMMON",
            "accountId": 1000000000001234,
            "configurationItem": {
                "accountId": 1000000000001234,
                "regionId": "cn-hangzhou",
                "resourceId": "i-bench0000001",
                "resourceType": "ACS::ECS::Instance",
                "resourceName": "web-1",
                "tags": '{"env":["prod"]}',
                "configuration": json.dumps({"ImageId": "m-approved", "Cpu": 4}),
            },
        },
    }
)

CHILD = r"""
import json, sys, types
sys.path.insert(0, sys.argv[4])
{import_line}
context = types.SimpleNamespace(request_id="r", region="cn-hangzhou", account_id="1",
    function=types.SimpleNamespace(name="f", handler="index.handler", memory=512, timeout=60),
    credentials=types.SimpleNamespace(access_key_id=sys.argv[1], access_key_secret=sys.argv[2],
                                      security_token=sys.argv[3]))
handler(sys.stdin.buffer.read(), context)
print({peak_rss})
"""

VARIANTS = {
    "handwritten": "from handwritten import handler",
    "rulekit": "from index import handler",
}


def build_folders(root: Path) -> dict[str, Path]:
    """The two code folders, as they would be deployed."""
    from rulekit._deploy.package import _compile, build_package

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    zipped = build_package([str(HERE.parent / "plugins" / "ecs")], version, root / "zip").path
    rulekit_dir = root / "rulekit"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(rulekit_dir)
    hand_dir = root / "handwritten"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(hand_dir),
            "aliyun-python-sdk-core",
        ],
        check=True,
        capture_output=True,
    )
    shutil.copy(HERE / "handwritten.py", hand_dir / "handwritten.py")
    if not _compile(hand_dir, sys.executable):  # as rulekit package compiles its folder
        raise RuntimeError(f"could not precompile {hand_dir}")
    return {"rulekit": rulekit_dir, "handwritten": hand_dir}


def _once(variant: str, env: dict[str, str], folder: Path) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (kB) and CPU seconds of one cold start in a fresh process."""
    code = CHILD.format(import_line=VARIANTS[variant], peak_rss=PEAK_RSS_KB)
    creds = [
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        env["ALIBABA_CLOUD_SECURITY_TOKEN"],
        str(folder),
    ]
    # the child's CPU: RUSAGE_CHILDREN counts children once they are waited for
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, *creds],
        input=EVENT.encode(),
        capture_output=True,
        env=env,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed: {done.stderr.decode()[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, int(done.stdout.decode().split()[-1]), cpu


def run(runs: int = RUNS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rulekit-bench-") as tmp, emulator_process() as url:
        folders = build_folders(Path(tmp))
        env = {**os.environ, **credentials_env(url), "RULEKIT_RULE": "ecs-instance-image-check"}
        samples: dict[str, list[tuple[float, int, float]]] = {v: [] for v in VARIANTS}
        for _ in range(runs):  # interleaved, so drift hits both alike
            for variant in VARIANTS:
                samples[variant].append(_once(variant, env, folders[variant]))
    wall = {v: median([s[0] for s in samples[v]]) for v in VARIANTS}
    rss = {v: median([s[1] for s in samples[v]]) for v in VARIANTS}
    cpu = {v: median([s[2] for s in samples[v]]) for v in VARIANTS}
    # Medians of the ratios of runs made back to back: drift between runs cancels out.
    pairs = list(zip(samples["rulekit"], samples["handwritten"], strict=True))
    wall_ratio = median([r[0] / h[0] for r, h in pairs])
    rss_ratio = median([r[1] / h[1] for r, h in pairs])
    cpu_ratio = median([r[2] / h[2] for r, h in pairs])
    return {
        "name": "cold start (first change event)",
        "rulekit_ms": round(wall["rulekit"] * 1000, 1),
        "handwritten_ms": round(wall["handwritten"] * 1000, 1),
        "wall_ratio": round(wall_ratio, 3),
        "rulekit_rss_mb": round(rss["rulekit"] / 1024, 1),
        "handwritten_rss_mb": round(rss["handwritten"] / 1024, 1),
        "rss_ratio": round(rss_ratio, 3),
        "rulekit_cpu_ms": round(cpu["rulekit"] * 1000, 1),
        "handwritten_cpu_ms": round(cpu["handwritten"] * 1000, 1),
        "cpu_ratio": round(cpu_ratio, 3),  # information: the least noisy figure here
        "target": f"<= {TARGET} both",
        "ok": wall_ratio <= TARGET and rss_ratio <= TARGET,
    }


if __name__ == "__main__":
    print(run())
