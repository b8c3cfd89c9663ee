"""Run the benchmarks of what users pay and print a table and JSON: ``python -m bench``
(docs/performance.md; about 5 minutes, exit 1 if a target is missed).

``python -m bench NAME...`` runs only the named ones; ``soak`` runs only when named.
"""

from __future__ import annotations

import json
import platform
import sys
from typing import Any

from . import (
    advanced_search,
    chain,
    coldstart,
    cpu_per_call,
    invocation,
    quota,
    soak,
    sweep,
    test_runner,
    warm,
)

BENCHMARKS = {
    "test_runner": test_runner.run,
    "coldstart": coldstart.run,
    "invocation": invocation.run,
    "cpu_per_call": cpu_per_call.run,
    "sweep": sweep.with_round_trip,
    "memory": sweep.memory,
    "warm": warm.run,  # information only
    "soak": soak.run,
    "chain": chain.run_chain,
    "quota": quota.run,
    "advanced_search": advanced_search.run,
}
DEFAULT = [
    "test_runner",
    "coldstart",
    "invocation",
    "cpu_per_call",
    "sweep",
    "memory",
    "advanced_search",
    "chain",
    "warm",
]


def _machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or "unknown",
    }


def main(names: list[str]) -> int:
    chosen = names or DEFAULT
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    results = [BENCHMARKS[name]() for name in chosen]
    width = max(len(r["name"]) for r in results)
    print(f"{'benchmark':<{width}}  result")
    for result in results:
        shown = {k: v for k, v in result.items() if k not in ("name",)}
        print(f"{result['name']:<{width}}  " + "  ".join(f"{k}={v}" for k, v in shown.items()))
    print(json.dumps({"machine": _machine(), "results": results}, indent=2))
    return 0 if all(r.get("ok", True) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
