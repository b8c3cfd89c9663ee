"""The ``rulekit`` command line. Not imported on the FC runtime path.

``rulekit demo`` runs the real handler on a sample event with an example rule and delivers the
evaluations to a loopback Config API emulator (real SDK, real HTTP, signature verified).

Example::

    $ rulekit demo
    $ rulekit demo --event my-event.json --rules my_rules
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import RulekitError

__all__ = ["main"]

DEMO_RULES = "rulekit_ecs"
DEMO_RULE = "ecs-instance-image-check"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _demo(args: argparse.Namespace) -> int:
    from .handler import run
    from .testing import ConfigEmulator, FCContext, sample_event

    if args.event:
        try:
            event: Any = Path(args.event).read_bytes()
        except OSError as exc:
            raise SystemExit(f"rulekit demo: cannot read {args.event}: {exc.strerror}") from None
        source = args.event
    else:
        event, source = sample_event(), "the embedded sample event (change-ecs-instance)"
    with ConfigEmulator() as emulator:
        context = FCContext(emulator.credentials)
        summary = run(
            event,
            context,
            environ=emulator.environ(RULEKIT_RULES=args.rules, RULEKIT_RULE=args.rule),
        )
        evaluations = emulator.evaluations
        url = emulator.url
    print(f"rule {summary['rule']} on {source}:")
    for ev in evaluations:
        annotation = f"  {ev['annotation']}" if ev.get("annotation") else ""
        print(
            f"  {ev['complianceResourceType']} {ev['complianceResourceId']} "
            f"({ev['complianceRegionId']}): {ev['complianceType']}{annotation}"
        )
    print(
        f"delivered {summary['delivered']} evaluation(s) in {summary['putEvaluationsCalls']} "
        f"PutEvaluations call(s) to the loopback Config API emulator at {url} "
        "(signature verified)"
    )
    if args.json:
        print(json.dumps(summary, indent=2))
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rulekit",
        description="Alibaba Cloud Config custom rules as decorated Python functions.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run an example rule on a sample event, delivering to a loopback Config API emulator",
    )
    demo.add_argument("--event", help="an event JSON file (default: the embedded sample)")
    demo.add_argument(
        "--rules", default=DEMO_RULES, help=f"comma-separated rule modules (default: {DEMO_RULES})"
    )
    demo.add_argument("--rule", default=DEMO_RULE, help=f"the rule to run (default: {DEMO_RULE})")
    demo.add_argument("--json", action="store_true", help="also print the handler's summary")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rulekit`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except RulekitError as exc:
        print(f"rulekit {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
