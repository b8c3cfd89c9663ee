"""``rulekit invoke EVENT_FILE``: the real handler path on one event, delivering to stdout (or,
with ``--endpoint``, to a Config API endpoint with PutEvaluations).

Delivery to stdout is a plugin supplying the ``rulekit_delivery_sink`` hook, so the handler runs
unchanged: event decoding, rule selection, scope, parameters, the rule, hooks, batching.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl
from ..testing.files import MAX_EVENT_BYTES, read_limited
from . import UsageError
from .common import load_plugins, parse_params

__all__ = ["StdoutSink", "add_parser"]


class StdoutSink:
    """Prints each evaluation, in PutEvaluations wire form, as one JSON line."""

    def __init__(self) -> None:
        self.count = 0

    def put(self, evaluations: Sequence[dict[str, Any]], *, delete_mode: bool = False) -> None:
        for evaluation in evaluations:
            print(json.dumps(evaluation, ensure_ascii=False))
            self.count += 1

    @hookimpl(tryfirst=True)
    def rulekit_delivery_sink(self, event: Any, config: Any) -> StdoutSink:
        return self


def run(args: argparse.Namespace) -> int:
    from ..handler import run as handle

    path = Path(args.event)
    raw = read_limited(path, MAX_EVENT_BYTES, UsageError)  # (a path may be /dev/zero)
    event: Any = raw
    if args.params:
        try:
            event = json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"{path} is not JSON: {exc}") from None
        if not isinstance(event, dict):
            raise UsageError(f"{path} is not a JSON object")
        given = parse_params(args.params)
        event["ruleParameters"] = {**_rule_parameters(event, path), **given}
    env = dict(os.environ)
    if args.rule:
        env["RULEKIT_RULE"] = args.rule
    plugins = load_plugins(args)
    if args.endpoint:
        env["RULEKIT_CONFIG_ENDPOINT"] = args.endpoint
    else:
        plugins.pm.register(StdoutSink(), name="rulekit.cli.stdout")
    summary = handle(event, None, environ=env, plugins=plugins)
    print(
        f"rule {summary['rule']}: {summary['evaluations']} evaluation(s) "
        f"{summary['compliance']}" + (f", delivered to {args.endpoint}" if args.endpoint else ""),
        file=sys.stderr,
    )
    return 0


def _rule_parameters(event: dict[str, Any], path: Path) -> dict[str, Any]:
    """The event's own ruleParameters, which --params extends: an object, or its JSON text."""
    own = event.get("ruleParameters") or {}
    if isinstance(own, str):
        try:
            own = json.loads(own)
        except ValueError:
            raise UsageError(f"{path}: ruleParameters is text that is not JSON") from None
    if not isinstance(own, dict):
        raise UsageError(f"{path}: ruleParameters must be a JSON object, got {type(own).__name__}")
    return own


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("invoke", help="run the handler on one event file")
    parser.add_argument("event", metavar="EVENT_FILE", help="a Cloud Config event (JSON)")
    parser.add_argument("--rule", help="the rule to run (when several are loaded)")
    parser.add_argument(
        "--params",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="rule parameters, overriding the event's",
    )
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="deliver with PutEvaluations to this Config endpoint instead of "
        "printing (credentials from ALIBABA_CLOUD_* variables)",
    )
    parser.set_defaults(run=run)
