"""Benchmark: a chained sweep (RULEKIT_CONTINUE) beside the same sweep in one unbounded
invocation and beside the hand-written loop (bench/handwritten_sweep.py, same concurrency), in the
same run, against the loopback emulator (in this process: it queues the FC hand-overs, and each
link is run as FC would run it, with its own context and time limit).

Scaled down from 100,000 resources and 60 s per link: 3,000 resources and a 4 s function
timeout per link (rulekit keeps min(3 s, timeout/4) as its margin and RULEKIT_SWEEP_RESERVE=1,
so about 2 s of work a link). Reported: total wall time of each variant, links, PutEvaluations
calls (the chain must make exactly ceil(N/100), like the single invocation), and the overhead of
a hand-over: (chained wall - single wall) / hand-overs."""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any

from rulekit._fc_api import FunctionApi
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, ConfigEmulator, FCContext, scheduled_event

from .common import HERE

COUNT = 3_000
LINK_TIMEOUT = 4.0
CONCURRENCY = 4


def _fill(emulator: ConfigEmulator, count: int) -> None:
    for n in range(count):
        image = "m-approved" if n % 10 else "m-other"
        emulator.store.add("ACS::ECS::Instance", f"i-{n:06d}", configuration={"ImageId": image})


@contextmanager
def _environ(env: dict[str, str]) -> Any:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _single(emulator: ConfigEmulator, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    summary = run(scheduled_event(), FCContext(TEST_CREDENTIALS, timeout=86400), environ=env)
    return time.perf_counter() - started, summary


def _chained(emulator: ConfigEmulator, env: dict[str, str]) -> tuple[float, list[dict[str, Any]]]:
    context = FCContext(TEST_CREDENTIALS, timeout=LINK_TIMEOUT)
    started = time.perf_counter()
    first = run(scheduled_event(), context, environ=env)
    rest = emulator.fc.drain(lambda payload: run(payload, context, environ=env))
    return time.perf_counter() - started, [first, *rest]


def _loop(emulator: ConfigEmulator, env: dict[str, str]) -> tuple[float, tuple[int, int]]:
    sys.path.insert(0, str(HERE))
    from handwritten_sweep import sweep  # type: ignore[import-not-found]

    with _environ({**env, "RULEKIT_CONFIG_ENDPOINT": emulator.url}):
        started = time.perf_counter()
        done = sweep(scheduled_event()["resultToken"], CONCURRENCY)
        return time.perf_counter() - started, done


def _largest(emulator: ConfigEmulator) -> bytes:
    """The largest continuation the last chained run handed over."""
    return max((i.payload for i in emulator.fc.accepted), key=len, default=b"{}")


def _invoke_seconds(emulator: ConfigEmulator, payload: bytes, times: int = 20) -> float:
    """Median time of one hand-over call (InvokeFunction, async) with ``payload``."""
    fc = FunctionApi(TEST_CREDENTIALS, emulator.url)
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        fc.invoke_async("rulekit", payload)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def run_chain(count: int = COUNT, rounds: int = 3) -> dict[str, Any]:
    """Each variant ``rounds`` times, interleaved, after an untimed warm-up; medians."""
    sys.path.insert(0, str(HERE.parent))
    walls: dict[str, list[float]] = {"single": [], "chained": [], "loop": []}
    ok, links, largest = True, [], b"{}"
    calls: dict[str, int | None] = {}
    lists: dict[str, int] = {}
    exact = math.ceil(count / 100)
    with ConfigEmulator() as emulator:
        env = emulator.environ(
            RULEKIT_RULES="bench.sweep_rule",
            RULEKIT_SWEEP_CONCURRENCY=str(CONCURRENCY),
            RULEKIT_SWEEP_RESERVE="1",
        )
        chained_env = {**env, "RULEKIT_CONTINUE": "true", "RULEKIT_CONTINUE_MAX_LINKS": "500"}
        _fill(emulator, 200)
        _single(emulator, env)  # warm-up: imports, plugins, connections
        for _ in range(rounds):
            for name in ("single", "chained", "loop"):
                emulator.reset()
                _fill(emulator, count)
                if name == "chained":
                    wall, summaries = _chained(emulator, chained_env)
                    links.append(len(summaries))
                    largest = max(largest, _largest(emulator), key=len)
                    ok = ok and summaries[-1]["complete"]
                    delivered = Counter(ev["complianceResourceId"] for ev in emulator.evaluations)
                    ok = ok and delivered == Counter({f"i-{n:06d}": 1 for n in range(count)})
                elif name == "single":
                    wall, summary = _single(emulator, env)
                    ok = ok and summary["complete"]
                else:
                    wall, (resources, _) = _loop(emulator, env)
                    ok = ok and resources == count
                walls[name].append(wall)
                lists[name] = len(emulator.calls_of("ListDiscoveredResources"))
                calls[name] = len(emulator.put_calls) if name != "loop" else calls.get(name)
                ok = ok and (name == "loop" or calls[name] == exact)
        invoke = _invoke_seconds(emulator, largest)
    single, chained, loop = (statistics.median(walls[k]) for k in ("single", "chained", "loop"))
    hand_overs = max(1, statistics.median(links) - 1)
    return {
        "name": f"chained sweep, {count} resources",
        "single_wall_s": round(single, 2),
        "chained_wall_s": round(chained, 2),
        "loop_wall_s": round(loop, 2),
        "links": links,
        "link_timeout_s": LINK_TIMEOUT,
        "put_calls": calls["chained"],
        "overhead_per_hand_over_s": round((chained - single) / hand_overs, 3),
        "invoke_function_ms": round(invoke * 1000, 2),
        "largest_continuation_bytes": len(largest),
        "extra_list_calls_per_link": round((lists["chained"] - lists["single"]) / hand_overs, 2),
        "ok": ok,
    }
