"""``rulekit invoke EVENT_FILE``: the real handler path on one event, delivering to stdout (or,
with ``--endpoint``, to a Config API endpoint with PutEvaluations).

Delivery to stdout is a plugin supplying the ``rulekit_delivery_sink`` hook, so the handler runs
unchanged: event decoding, rule selection, scope, parameters, the rule, hooks, batching.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._errors import RulekitError, RuleNotFoundError
from .._hookspecs import hookimpl
from ..testing._files import MAX_EVENT_BYTES, read_limited
from ..testing._stubs import read_stubs
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
    event: Any = raw  # the handler decodes the bytes, as on FC; parsed here to name the place
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        hint = ""
        if path.suffix in (".yaml", ".yml"):
            hint = f"; to run a fixture file, use: rulekit test {path}"
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}{hint}") from None
    except (ValueError, RecursionError) as exc:  # not UTF-8, or nested too deeply
        raise UsageError(f"{path} is not a JSON event: {type(exc).__name__}") from None
    if not isinstance(parsed, dict):
        raise UsageError(f"{path} is not a JSON object")
    if args.params:
        event = parsed
        given = parse_params(args.params)
        event["ruleParameters"] = {**_rule_parameters(event, path), **given}
    env = dict(os.environ)
    if args.rule:
        env["RULEKIT_RULE"] = args.rule
    plugins = load_plugins(args)
    if args.endpoint:
        from .._credentials import Credentials

        if Credentials.from_env(env) is None:  # else the handler's advice is for FC deployments
            raise UsageError(
                f"--endpoint {args.endpoint} delivers with PutEvaluations, which needs "
                "credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET "
                "(and ALIBABA_CLOUD_SECURITY_TOKEN for STS), e.g. as `rulekit emulator` prints them"
            )
        env["RULEKIT_CONFIG_ENDPOINT"] = args.endpoint
    else:
        plugins.pm.register(StdoutSink(), name="rulekit.cli.stdout")
    _check_oversize(event, path, env)
    stubs = read_stubs(Path(args.api)) if args.api else None
    with contextlib.ExitStack() as stack:
        if stubs is not None:
            env = _serve_stubs(stack, stubs, env)
        try:
            summary = handle(event, None, environ=env, plugins=plugins)
        except RuleNotFoundError as exc:
            if args.rule or "cannot tell which rule" not in str(exc):
                raise
            # On FC the rulekitRule parameter names the rule; here, the event's resource type
            # may: run the one loaded rule written for it.
            candidates = _rules_for(event, plugins.rules)
            if len(candidates) != 1:
                names = ", ".join(sorted(r.name for r in candidates or plugins.rules))
                raise UsageError(
                    f"{path} could be for any of {len(candidates or plugins.rules)} loaded "
                    f"rules; pass --rule NAME (one of: {names})"
                ) from None
            env["RULEKIT_RULE"] = candidates[0].name
            summary = handle(event, None, environ=env, plugins=plugins)
    print(
        f"rule {summary['rule']}: {summary['evaluations']} evaluation(s) "
        f"{summary['compliance']}" + (f", delivered to {args.endpoint}" if args.endpoint else ""),
        file=sys.stderr,
    )
    return 0


def _rules_for(event: Any, rules: Any) -> list[Any]:
    """The loaded rules written for the event's resource type (none for a periodic event)."""
    from .._event import decode_event

    resource = decode_event(event).resource
    if resource is None:
        return []
    return [r for r in rules if resource.type in r.resource_types]


def _check_oversize(event: Any, path: Path, env: dict[str, str]) -> None:
    """An OVERSIZE event's configuration is fetched with GetDiscoveredResource: without
    credentials there is no Config client, so say how to provide one before running."""
    from .._credentials import Credentials
    from .._event import decode_event

    try:
        oversize = decode_event(event).oversize
    except RulekitError:
        return  # the handler reports the bad event itself
    if oversize and Credentials.from_env(env) is None:
        raise UsageError(
            f"{path} is an OVERSIZE event: its configuration is fetched from the Config API "
            "(GetDiscoveredResource), and there is no Config client. Pass --endpoint URL with "
            "ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET set, or start `rulekit emulator --inventory "
            "FILE` and export the variables it prints"
        )


def _serve_stubs(
    stack: contextlib.ExitStack, stubs: dict[str, dict[str, Any]], env: dict[str, str]
) -> dict[str, str]:
    """A loopback emulator answering the stubbed products' calls; the rule's ``ctx.call`` to
    them goes there. Credentials already in the environment are accepted by it; without any,
    the emulator's test credentials are used."""
    from .._credentials import Credentials
    from ..testing._emulator import ConfigEmulator

    emulator = stack.enter_context(ConfigEmulator())
    for name, actions in stubs.items():
        for action, response in actions.items():
            emulator.respond(name, action, response)
    env = dict(env)
    given = Credentials.from_env(env)
    if given is None:
        env.update({k: v for k, v in emulator.environ().items() if k.startswith("ALIBABA_CLOUD_")})
    else:
        emulator.keys[given.access_key_id] = given
    for name in stubs:  # the same key resolve_endpoint reads
        key = name.replace("-", "").replace("_", "").upper()
        env[f"RULEKIT_{key}_ENDPOINT"] = emulator.url
    return env


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
    parser.add_argument(
        "--api",
        metavar="STUBS",
        help="answer the rule's API calls from this stub file (a fixture's api: format)",
    )
    parser.set_defaults(run=run)
