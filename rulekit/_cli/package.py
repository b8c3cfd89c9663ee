"""``rulekit package [PACK...] --python 3.10|3.12 -o DIR``: the FC code package (zip)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parser"]


def run(args: argparse.Namespace) -> int:
    from .._deploy.package import FC_PYTHONS, build_package

    result = build_package(args.packs, args.python, Path(args.output))
    print(
        f"built {result.path} for Python {result.python} on Linux x86_64: "
        f"{result.size / 1_000_000:.1f} MB, {result.files} files"
    )
    print("includes: " + ", ".join(result.distributions))
    if not result.compiled:
        print(
            f"note: no Python {result.python} on this machine, so no precompiled .pyc: FC's "
            "code folder is read-only, and each cold start will compile the sources"
        )
    if result.python not in FC_PYTHONS:
        print(
            f"note: FC offers Python {' and '.join(FC_PYTHONS)}; {result.python} is for "
            "local testing"
        )
    print("FC handler: index.handler")
    return 0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("package", help="build the Function Compute code package (zip)")
    parser.add_argument(
        "packs",
        nargs="*",
        metavar="PACK",
        help="pack folders or installed pack names (default: installed packs)",
    )
    parser.add_argument(
        "--python", default="3.10", help="target Python of the FC runtime: 3.10 (default) or 3.12"
    )
    parser.add_argument("-o", "--output", default="dist", help="output folder (default: dist)")
    parser.set_defaults(run=run)
