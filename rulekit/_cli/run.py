"""``rulekit run``: evaluate rules against a live account without writing to it.

Resources come from the Config API (ListDiscoveredResources, GetDiscoveredResource, or advanced
search for rules with declared reads, whose counts go to stderr or the JSON) and go through the
same dispatcher and sweep as a deployed function; evaluations are collected here and
never sent (no PutEvaluations). Exit codes: 0 done, 1 an API error, 2 usage or credentials,
130 interrupted (what was evaluated so far is printed).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .._errors import ApiError, CredentialsError, ParamsError
from .._evaluation import Evaluation
from .._hookspecs import hookimpl
from . import EXIT_FAILED, EXIT_OK, UsageError
from .common import load_plugins, parse_params

__all__ = ["add_parser", "dry_run_event"]

_REGION = re.compile(r"^[a-z]{2,}-[a-z0-9-]+$")


def dry_run_event(parameters: dict[str, str]) -> dict[str, Any]:
    """A periodic event without a configuration item: the dispatcher sweeps the account."""
    return {
        "resultToken": "rulekit-run-dry-run-never-sent",
        "orderingTimestamp": int(time.time() * 1000),
        "invokingEvent": {"messageType": "ScheduledNotification", "configurationType": "NONE"},
        "ruleParameters": parameters,
    }


@dataclass
class Collector:
    """Collects every evaluation as it is produced (so Ctrl-C loses nothing evaluated) and draws
    a progress line on stderr when it is a terminal."""

    rows: list[tuple[str, Evaluation]] = field(default_factory=list)
    resources: Counter[str] = field(default_factory=Counter)
    progress: bool = False

    @hookimpl
    def rulekit_evaluations(
        self, rule: Any, resource: Any, evaluations: list[Evaluation], ctx: Any
    ) -> None:
        self.resources[rule.name] += 1
        for ev in evaluations:
            self.rows.append((rule.name, ev if ev.region_id else _with_region(ev, resource)))
        if self.progress and self.resources[rule.name] % 25 == 0:
            print(
                f"\r{rule.name}: {self.resources[rule.name]} resources evaluated",
                end="",
                file=sys.stderr,
                flush=True,
            )


def _with_region(ev: Evaluation, resource: Any) -> Evaluation:
    from dataclasses import replace

    return replace(ev, region_id=resource.region, account_id=ev.account_id or resource.account_id)


class _Discard:
    """The dry run's sink: evaluations are never sent anywhere."""

    def put(self, evaluations: Any, *, delete_mode: bool = False) -> None:
        pass


class _RuleErrors(logging.Handler):
    """Shows a sweep's per-resource errors on stderr (the sweep logs each and goes on); when a
    rule raised, with the traceback of the rule's own code, which the rule's ``evaluate``
    (wrapped by :func:`_tracing`) kept by message."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.tracebacks: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        from .._redact import redact

        message = redact(record.getMessage())
        print(f"error: {message}", file=sys.stderr)
        for error, shown in list(self.tracebacks.items()):
            if error in message:
                print(textwrap.indent(shown, "  "), file=sys.stderr)
                break


def _tracing(rule: Any, errors: _RuleErrors) -> None:
    """Keep the rule-code traceback of each EvaluationError the rule raises (this process only:
    the CLI's own Rule object gets a wrapped ``evaluate``)."""
    from .._errors import EvaluationError
    from ..testing._tracebacks import rule_traceback

    evaluate = rule.evaluate

    def traced(*args: Any, **kwargs: Any) -> Any:
        try:
            return evaluate(*args, **kwargs)
        except EvaluationError as exc:
            shown = rule_traceback(exc)
            if shown:
                errors.tracebacks[str(exc)] = shown
            raise

    rule.evaluate = traced


def _table(
    collector: Collector,
    rules: list[str],
    errors: dict[str, int],
    searches: dict[str, dict[str, Any]],
) -> None:
    kinds = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA")
    width = max([len(r) for r in rules] + [4])
    print(f"{'RULE':<{width}}  RESOURCES  " + "  ".join(kinds) + "  ERRORS")
    for name in rules:
        counts = Counter(ev.compliance.value for rule, ev in collector.rows if rule == name)
        print(
            f"{name:<{width}}  {collector.resources[name]:>9}  "
            + "  ".join(f"{counts[k]:>{len(k)}}" for k in kinds)
            + f"  {errors.get(name, 0):>6}"
        )
    for name, stats in searches.items():  # how each rule's resources were read
        print(
            f"{name}: advanced search: {stats['searched']} resource(s) from "
            f"{stats['calls']} call(s), {stats['fallbacks']} fetched one by one",
            file=sys.stderr,
        )
    # Sorted: a sweep fetches configurations concurrently, so arrival order varies by run.
    bad = sorted(
        ((rule, ev) for rule, ev in collector.rows if ev.compliance.value == "NON_COMPLIANT"),
        key=lambda row: (rules.index(row[0]), row[1].resource_type, row[1].resource_id),
    )
    if bad:
        print("\nNON_COMPLIANT:")
        for rule, ev in bad:
            note = json.dumps(ev.annotation, ensure_ascii=False) if ev.annotation else ""
            print(f"  {rule}  {ev.resource_type} {ev.resource_id} ({ev.region_id})  {note}")


def _json(
    collector: Collector,
    rules: list[str],
    errors: dict[str, int],
    searches: dict[str, dict[str, Any]],
) -> None:
    out = []
    for name in rules:
        evs = [ev for rule, ev in collector.rows if rule == name]
        out.append(
            {
                **({"advancedSearch": searches[name]} if name in searches else {}),
                "rule": name,
                "resources": collector.resources[name],
                "compliance": dict(Counter(ev.compliance.value for ev in evs)),
                "errors": errors.get(name, 0),
                "evaluations": [
                    {
                        "resourceId": ev.resource_id,
                        "resourceType": ev.resource_type,
                        "regionId": ev.region_id,
                        "accountId": ev.account_id,
                        "complianceType": ev.compliance.value,
                        "annotation": ev.annotation,
                    }
                    for ev in evs
                ],
            }
        )
    print(json.dumps({"rules": out}, indent=2, ensure_ascii=False, default=str))


def run(args: argparse.Namespace) -> int:
    from .._api import ApiClient
    from .._calls import CloudApi
    from .._config_api import ConfigApi
    from .._dispatcher import Dispatcher
    from .._endpoints import resolve_endpoint
    from .._event import decode_event
    from .._loader import RuleSet
    from .._profiles import cli_credentials
    from .._settings import Settings, SweepOptions

    for region in args.region:
        if not _REGION.match(region):
            raise UsageError(f"--region {region!r} is not a region id (e.g. cn-hangzhou)")
    plugins = load_plugins(args)
    rules = [plugins.rules[name] for name in args.rules] if args.rules else list(plugins.rules)
    if not rules:
        raise UsageError("no rules loaded: install a pack, set RULEKIT_RULES or pass -p MODULE")
    try:
        credentials, profile_region = cli_credentials(args.profile)
    except CredentialsError as exc:
        raise UsageError(str(exc)) from None
    settings = Settings.from_env(os.environ)
    region = (args.region[0] if args.region else None) or profile_region or "cn-hangzhou"
    client = ApiClient.from_settings(credentials, settings, region)
    config = ConfigApi(client, resolve_endpoint("Config", region, os.environ))
    collector = Collector(progress=sys.stderr.isatty() and args.format == "table")
    plugins.pm.register(collector, name="rulekit.cli.run")
    params = parse_params(args.params)
    errors: dict[str, int] = {}
    searches: dict[str, dict[str, Any]] = {}  # rule -> its sweep's advanced-search counts
    names = [rule.name for rule in rules]
    # A dry run sweeps every rule, whatever its triggers: that warning is not news here.
    logging.getLogger("rulekit.dispatcher").setLevel(logging.ERROR)
    sweep_log = logging.getLogger("rulekit.sweep")
    shown = _RuleErrors()
    sweep_log.addHandler(shown)
    code = EXIT_OK
    try:
        for rule in rules:
            parameters = dict(params)
            if args.region:
                parameters["RegionIdsScope"] = ",".join(args.region)
            if args.resource_id:
                parameters["ResourceIdsScope"] = args.resource_id
            dispatcher = Dispatcher(
                RuleSet([rule]),
                config=config,
                hooks=plugins.hook,
                api=CloudApi(client, environ=os.environ),
                sweep=SweepOptions(
                    concurrency=settings.sweep.concurrency,
                    reserve=0,
                    deleted_lookback_days=settings.sweep.deleted_lookback_days,
                    advanced_search=settings.sweep.advanced_search,
                ),
            )
            _tracing(rule, shown)
            event = decode_event(dry_run_event(parameters))
            try:
                result = dispatcher.dispatch(event, sink=_Discard())
            except ParamsError as exc:
                raise UsageError(f"{exc}; pass --params KEY=VALUE") from None
            errors[rule.name] = result.errors
            if result.advanced_search is not None:
                searches[rule.name] = result.advanced_search
    except ApiError as exc:
        print(f"rulekit run: {exc}", file=sys.stderr)
        code = EXIT_FAILED
    except KeyboardInterrupt:
        print("\nrulekit run: interrupted; what was evaluated so far:", file=sys.stderr)
        code = 130
    finally:
        sweep_log.removeHandler(shown)
    if collector.progress:
        print(file=sys.stderr)
    if args.resource_id:
        collector.rows = [(r, ev) for r, ev in collector.rows if ev.resource_id == args.resource_id]
    (_json if args.format == "json" else _table)(collector, names, errors, searches)
    if code == EXIT_OK and any(errors.values()):  # a rule that raised has not been judged
        code = EXIT_FAILED
    return code


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("run", help="evaluate rules against a live account (never writes)")
    parser.add_argument("rules", nargs="*", metavar="RULE", help="rule names (default: all)")
    parser.add_argument(
        "--region", action="append", default=[], metavar="R", help="only this region (repeatable)"
    )
    parser.add_argument("--resource-id", metavar="ID", help="only this resource")
    parser.add_argument(
        "--params",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="rule parameters for the rules run",
    )
    parser.add_argument("--profile", help="an Alibaba Cloud CLI profile (~/.aliyun/config.json)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)
