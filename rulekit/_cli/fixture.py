"""``rulekit fixture record RESOURCE_ID --type T``: turn a live resource into a fixture case.

The configuration comes from GetDiscoveredResource (read-only); the case's ``expect`` is what
the rule says about it today, so the recorded case is a regression test. ``--mask`` replaces
resource ids and account numbers (consistently in the resource and the parameters) before the
rule runs, so the expectation holds for the masked data.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

from .._errors import ApiError, CredentialsError
from . import EXIT_FAILED, EXIT_OK, UsageError
from .common import load_plugins, parse_params

__all__ = ["Masker", "add_parser"]

# An Alibaba Cloud resource id: a short prefix, "-", then letters and digits (at least one
# digit, so region ids such as cn-hangzhou are left alone).
_ID = re.compile(r"\b([a-z]{1,8})-((?=[a-z0-9]*\d)[a-z0-9]{8,32})\b")
_ACCOUNT = re.compile(r"(?<!\d)\d{16}(?!\d)")


class Masker:
    """Replaces resource ids (``vpc-bp1x...`` -> ``vpc-masked0001``) and 16-digit account ids,
    the same way everywhere, so masked data stays consistent."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def _id(self, match: re.Match[str]) -> str:
        original = match.group(0)
        if original not in self.ids:
            self.ids[original] = f"{match.group(1)}-masked{len(self.ids) + 1:04d}"
        return self.ids[original]

    def text(self, value: str) -> str:
        return _ACCOUNT.sub("1000000000000000", _ID.sub(self._id, value))

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and _ACCOUNT.fullmatch(str(value))
        ):
            return 1000000000000000
        return value


def run(args: argparse.Namespace) -> int:
    from .._api import ApiClient
    from .._config_api import ConfigApi
    from .._delivery import MemorySink
    from .._dispatcher import Dispatcher
    from .._endpoints import resolve_endpoint
    from .._event import decode_event, parse_configuration
    from .._loader import RuleSet
    from .._profiles import cli_credentials
    from .._settings import Settings
    from .._tags import parse_tags
    from ..testing._session import Session

    plugins = load_plugins(args)
    output = Path(args.output) if args.output else None
    if output is not None:
        _existing_cases(output)  # a bad -o fails here, before any API call
    candidates = [r for r in plugins.rules if args.type in r.resource_types]
    if args.rule:
        rule = plugins.rules[args.rule]
    elif len(candidates) == 1:
        rule = candidates[0]
    else:
        names = ", ".join(r.name for r in candidates) or "none"
        raise UsageError(f"pass --rule: rules for {args.type}: {names}")
    try:
        credentials, profile_region = cli_credentials(args.profile)
    except CredentialsError as exc:
        raise UsageError(str(exc)) from None
    region = args.region or profile_region
    if not region:
        raise UsageError("record: pass --region (the resource's region); no profile sets one")
    client = ApiClient.from_settings(credentials, Settings.from_env(os.environ), region)
    config = ConfigApi(client, resolve_endpoint("Config", region, os.environ))
    try:
        detail = config.get_discovered_resource(args.resource_id, args.type, region)
    except ApiError as exc:
        print(f"rulekit fixture record: {exc}")
        return EXIT_FAILED
    where = f"{args.type} {args.resource_id}"
    resource: dict[str, Any] = {
        "id": args.resource_id,
        "type": args.type,
        "region": region,
        "configuration": parse_configuration(detail.get("Configuration"), where),
    }
    tags = parse_tags(detail.get("Tags"))
    if tags:
        resource["tags"] = tags
    if detail.get("AccountId"):
        resource["account_id"] = str(detail["AccountId"])
    params = parse_params(args.params)
    live_event = _event(resource, params)
    recorder = _recording_api(client)
    live = Dispatcher(RuleSet([rule]), config=config, api=recorder, hooks=None)
    try:  # the rule on the live resource: its API calls go to the cloud and are recorded
        live.dispatch(decode_event(live_event), sink=MemorySink())
    except ApiError as exc:
        print(f"rulekit fixture record: {exc}")
        return EXIT_FAILED
    api = _stubs(recorder.recorded)
    if args.mask:
        masker = Masker()
        resource, params, api = masker.value(resource), masker.value(params), masker.value(api)
    # The expectation is what `rulekit test` will compute from the file as written: the
    # (masked) resource with the recorded responses as stubs.
    session = Session(plugins)
    try:
        evaluations = session.invoke(_event(resource, params), rule, params or None, api)
    finally:
        session.close()
    expect: Any = [
        {"resource_id": ev.resource_id, "compliance": ev.compliance.value} for ev in evaluations
    ]
    if len(evaluations) == 1 and evaluations[0].resource_id == resource["id"]:
        expect = evaluations[0].compliance.value
    case: dict[str, Any] = {
        "name": args.name or f"recorded {resource['id']}",
        "resource": resource,
    }
    if params:
        case["params"] = params
    if api:
        case["api"] = api
    case["expect"] = expect
    path = output or Path(f"{rule.name}.rulekit.yaml")
    module = rule.module if rule.module not in (None, "__main__") else None
    _append(path, rule.name, module, case)
    stubbed = sum(len(r) if isinstance(r, list) else 1 for a in api.values() for r in a.values())
    print(
        f"recorded {where} as case {case['name']!r} in {path} (expect {json.dumps(expect)}"
        + (f"; {stubbed} API response(s) as stubs" if api else "")
        + ")"
    )
    return EXIT_OK


def _event(resource: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    from ..testing import change_event

    return change_event(
        resource["type"],
        resource["id"],
        resource["configuration"],
        region=resource["region"],
        account_id=resource.get("account_id", "1000000000000000"),
        tags=resource.get("tags"),
        rule_parameters=params,
    )


def _recording_api(client: Any) -> Any:
    """A CloudApi that keeps every response the rule's ``ctx.call`` / ``ctx.paginate`` got, by
    product and action in call order: a fixture's ``api:`` stubs serve them back the same way
    (one per call, the last repeating)."""
    from .._calls import CloudApi
    from .._endpoints import product

    class Recording(CloudApi):
        recorded: dict[str, dict[str, Any]]

        def call(
            self,
            product_name: str,
            action: str,
            version: str | None = None,
            region: str | None = None,
            *,
            account_id: str | None = None,
            **params: Any,
        ) -> dict[str, Any]:
            body = super().call(
                product_name, action, version, region, account_id=account_id, **params
            )
            known = product(product_name)
            name = known.name if known else product_name
            if (name, action) != ("Sts", "AssumeRole"):  # the test emulator answers it itself
                body = {k: v for k, v in body.items() if k != "RequestId"}
                responses = self.recorded.setdefault(name, {}).setdefault(action, [])
                responses.append(body)
            return body

    api = Recording(client, environ=os.environ)
    api.recorded = {}
    return api


def _stubs(recorded: dict[str, dict[str, list[Any]]]) -> dict[str, dict[str, Any]]:
    return {
        product: {action: r[0] if len(r) == 1 else r for action, r in actions.items()}
        for product, actions in recorded.items()
    }


def _existing_cases(path: Path) -> dict[str, Any] | None:
    """The fixture already at ``path`` (None: no file yet), or a UsageError saying why
    ``path`` cannot take a recorded case."""
    from ..testing._files import MAX_FIXTURE_BYTES, load_yaml, read_limited, text_of

    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    if not path.exists():
        return None
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder; pass -o a file")
    text = text_of(read_limited(path, MAX_FIXTURE_BYTES, UsageError), path, UsageError)
    loaded = load_yaml(text, path, UsageError)
    if not isinstance(loaded, dict):
        raise UsageError(f"{path} is not a fixture (a mapping with 'rule' and 'cases')")
    if not isinstance(loaded.get("cases", []), list):
        raise UsageError(f"{path}: 'cases' is not a list; pass -o another file")
    return loaded


def _append(path: Path, rule: str, module: str | None, case: dict[str, Any]) -> None:
    import yaml

    data: dict[str, Any] = _existing_cases(path) or {"rule": rule}
    if data.get("rule") != rule:
        raise UsageError(f"{path} is not a fixture for {rule}; pass -o another file")
    if module:  # so `rulekit test FILE` imports the rule with no -p and no installed pack
        data.setdefault("module", module)
    data.setdefault("cases", []).append(case)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("fixture", help="record a live resource as a fixture case")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    record = actions.add_parser("record", help="fetch a resource and append a fixture case")
    record.add_argument("resource_id", metavar="RESOURCE_ID")
    record.add_argument("--type", required=True, help="its resource type")
    record.add_argument("--rule", help="the rule the case is for")
    record.add_argument("--region", help="the resource's region")
    record.add_argument("--params", nargs="*", default=[], metavar="KEY=VALUE")
    record.add_argument("--name", help="the case's name")
    record.add_argument("--mask", action="store_true", help="mask ids and account numbers")
    record.add_argument("--profile", help="an Alibaba Cloud CLI profile")
    record.add_argument("-o", "--output", help="fixture file (default: RULE.rulekit.yaml)")
    record.set_defaults(run=run)
