"""Helpers shared by the benchmarks: an emulator in a child process, medians."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable, Iterator
from pathlib import Path

from rulekit.testing import TEST_CREDENTIALS

HERE = Path(__file__).parent

# A child's peak RSS, as an expression for its code. Not ru_maxrss: Linux carries the parent's
# high-water mark across fork+exec, so every child would read at least the benchmark's own RSS.
# VmHWM belongs to the exec'd image alone.
PEAK_RSS_KB = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"


@contextlib.contextmanager
def emulator_process(resources: int = 0, round_trip: float = 0.0) -> Iterator[str]:
    command = [sys.executable, str(HERE / "emulator_process.py"), "--resources", str(resources)]
    if round_trip:
        command += ["--round-trip", str(round_trip)]
    child = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator did not start: {url!r}")
        yield url
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def credentials_env(url: str) -> dict[str, str]:
    return {
        "RULEKIT_ENDPOINT": url,
        "RULEKIT_CONFIG_ENDPOINT": url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": TEST_CREDENTIALS.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": TEST_CREDENTIALS.access_key_secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": TEST_CREDENTIALS.security_token or "",
    }


def median(values: list[float]) -> float:
    return statistics.median(values)


def interleaved(
    variants: dict[str, Callable[[], object]],
    *,
    number: int,
    rounds: int,
    before: Callable[[str], object] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each variant in each of ``rounds`` rounds of ``number`` calls, the
    variants interleaved round by round, so that drift on a shared machine (absolute times here
    vary 2x within minutes) hits them alike. ``before(name)`` runs ahead of each timing, untimed.
    """
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            if before is not None:
                before(name)
            times[name].append(timeit.timeit(call, number=number) / number)
    return times


def paired_ratio(times: dict[str, list[float]], numerator: str, denominator: str) -> float:
    """The median over rounds of ``numerator / denominator`` timed in the same round. Pairing
    cancels the machine's drift between rounds, which a ratio of the two best times does not:
    on this shared VM that one ranged from 1.21 to 1.49 over runs of the same code."""
    pairs = zip(times[numerator], times[denominator], strict=True)
    return statistics.median(a / b for a, b in pairs)
