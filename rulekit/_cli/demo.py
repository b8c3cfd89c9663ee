"""``rulekit demo``: the example rule on the embedded sample event, delivered through the real
handler and SDK to a loopback Config API emulator (signature verified).

The rule (``rulekit.testing.example``) and the event both ship inside rulekit, so the demo works
from a plain install with no pack."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError

__all__ = ["add_parser"]

DEMO_RULES = "rulekit.testing.example"
DEMO_RULE = "ecs-instance-image-check"


def run(args: argparse.Namespace) -> int:
    from ..handler import run as handle
    from ..testing import ConfigEmulator, FCContext, sample_event

    if args.event:
        from ..testing._files import MAX_EVENT_BYTES, read_limited

        event: Any = read_limited(Path(args.event), MAX_EVENT_BYTES, ConfigurationError)
        source = args.event
    else:
        event, source = sample_event(), "the embedded sample event (change-ecs-instance)"
    with ConfigEmulator() as emulator:
        context = FCContext(emulator.credentials)
        summary = handle(
            event,
            context,
            environ=emulator.environ(RULEKIT_RULES=args.rules, RULEKIT_RULE=args.rule),
        )
        evaluations = list(emulator.evaluations)
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
    return 0


def add_parser(sub: Any) -> None:
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
    demo.set_defaults(run=run)
