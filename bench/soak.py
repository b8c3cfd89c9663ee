"""Benchmark: a warm instance that has served many invocations is as fast and as small as a
fresh one. 30,000 invocations of the FC entry point, each event with its own result token as
on the platform, network excluded as in ``invocation``; mean time per invocation of the first
and the last 3,000, and resident memory before and after.

It guards against per-invocation state that accumulates: the redaction registry once rebuilt a
pattern of every token seen, so the 500th invocation took 12.8 ms."""

from __future__ import annotations

import time
from typing import Any

from .invocation import (
    _environment,
    _fc_context,
    _fc_logging,
    _handler_env,
    _without_network,
)
from .warm import _events

INVOCATIONS, BLOCK = 30_000, 3_000
SLOWDOWN_TARGET = 1.2  # last block / first block
GROWTH_TARGET_MB = 10.0


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1])


def run() -> dict[str, Any]:
    from rulekit.handler import handler

    env = _handler_env()
    context = _fc_context()
    events = _events(INVOCATIONS)
    blocks: list[float] = []
    with _environment(env), _without_network(), _fc_logging():
        handler(next(events), context)  # imports and caches, as the cold start did
        rss_before = _rss_kb()
        for _ in range(INVOCATIONS // BLOCK):
            started = time.perf_counter()
            for _ in range(BLOCK):
                handler(next(events), context)
            blocks.append((time.perf_counter() - started) / BLOCK)
        rss_after = _rss_kb()
    slowdown = blocks[-1] / blocks[0]
    growth_mb = (rss_after - rss_before) / 1024
    return {
        "name": f"warm instance soak, {INVOCATIONS:,} invocations",
        "first_block_us": round(blocks[0] * 1e6, 1),
        "last_block_us": round(blocks[-1] * 1e6, 1),
        "slowdown": round(slowdown, 2),
        "rss_growth_mb": round(growth_mb, 2),
        "target": f"slowdown <= {SLOWDOWN_TARGET}, growth < {GROWTH_TARGET_MB:g} MB",
        "ok": slowdown <= SLOWDOWN_TARGET and growth_mb < GROWTH_TARGET_MB,
    }


if __name__ == "__main__":
    print(run())
