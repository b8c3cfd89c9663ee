"""``rulekit new rule NAME --resource-type T`` and ``rulekit new pack NAME``: scaffolds that pass
``rulekit test`` as generated."""

from __future__ import annotations

import argparse
import keyword
import re
from pathlib import Path
from typing import Any

from .._resource_types import KNOWN_RESOURCE_TYPES, suggest
from .._rule_checks import RESOURCE_TYPE_PATTERN
from . import UsageError

__all__ = ["add_parser"]

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

RULE_TEMPLATE = '''"""{rule_name}: {resource_type} resources carry a tag (a template to edit)."""

from rulekit import Compliance, Params, rule


class {camel}Params(Params):
    """Rule parameters, read from the platform's camelCase keys (``requiredTag``)."""

    required_tag: str = "owner"


@rule(resource_type="{resource_type}", params={camel}Params, risk_level=2,
      description="{resource_type} resources carry the required tag.")
def {func}(resource, params):
    """COMPLIANT when the resource has the tag named by ``requiredTag``."""
    if params.required_tag in resource.tags:
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, f"missing tag {{params.required_tag!r}}"
'''

FIXTURE_TEMPLATE = """# yaml-language-server: $schema={schema}
# Run: rulekit test {path}
rule: {rule_name}
module: {module}
params: {{requiredTag: owner}}
cases:
  - name: tagged resource is compliant
    resource:
      id: {sample_id}-1
      region: cn-hangzhou
      tags: {{owner: [platform-team]}}
      configuration: {{}}
    expect: COMPLIANT
  - name: untagged resource is non-compliant
    resource:
      id: {sample_id}-2
      region: cn-hangzhou
      configuration: {{}}
    expect: {{compliance: NON_COMPLIANT, annotation: "missing tag 'owner'"}}
  - name: the parameter changes the tag checked
    params: {{requiredTag: cost-center}}
    resource:
      id: {sample_id}-3
      tags: {{cost-center: ["42"]}}
    expect: COMPLIANT
"""

PYPROJECT_TEMPLATE = """[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "rulekit-{name}"
version = "0.1.0"
description = "rulekit rule pack: {name}"
requires-python = ">=3.10"
dependencies = ["aliyun-config-rulekit"]

[project.entry-points.rulekit]
{name} = "{package}"

[tool.setuptools.packages.find]
include = ["{package}*"]
"""

README_TEMPLATE = """# rulekit-{name}

A rulekit rule pack. Install it next to rulekit and its rules load by themselves (entry-point
group `rulekit`); `rulekit list` shows them.

    pip install -e .
    rulekit list
    rulekit test .                      # the fixtures in tests/fixtures
    rulekit test . --junit-xml report.xml
"""


def schema_uri() -> str:
    """The file URI of the JSON Schema for fixture files shipped in rulekit, for editors
    (``# yaml-language-server: $schema=...``): it validates fixtures as they are typed."""
    from importlib import resources

    return Path(str(resources.files("rulekit.testing") / "fixture.schema.json")).as_uri()


def _event_file(path: Path, resource_type: str, sample_id: str, force: bool) -> None:
    """A platform change event for ``rulekit invoke``: the sample resource, untagged."""
    import json

    from ..testing._events import change_event

    event = change_event(resource_type, sample_id, {}, region="cn-hangzhou")
    _write(path, json.dumps(event, indent=2) + "\n", force)


def _identifier(name: str) -> str:
    ident = name.replace("-", "_")
    if not ident.isidentifier() or keyword.iskeyword(ident):
        raise UsageError(f"{name!r} cannot be a Python module name")
    return ident


def _write(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"created {path}")


def _check_type(resource_type: str) -> None:
    if not RESOURCE_TYPE_PATTERN.match(resource_type):
        raise UsageError(f"{resource_type!r} is not a resource type (ACS::<Product>::<Type>)")
    likely = suggest(resource_type)
    if likely is not None:
        raise UsageError(f"unknown resource type {resource_type!r}; did you mean {likely!r}?")
    if resource_type not in KNOWN_RESOURCE_TYPES:
        print(f"note: {resource_type} is not a resource type rulekit knows; check its spelling")


def _rule_files(
    name: str, resource_type: str, module: str, folder: Path, fixture_folder: Path, force: bool
) -> Path:
    func = _identifier(name)
    camel = "".join(part.capitalize() for part in func.split("_"))
    rule_name = func.replace("_", "-")
    sample_id = f"{resource_type.split('::')[1].lower()}-sample"
    _write(
        folder / f"{module.rsplit('.', 1)[-1]}.py",
        RULE_TEMPLATE.format(
            rule_name=rule_name, resource_type=resource_type, camel=camel, func=func
        ),
        force,
    )
    fixture = fixture_folder / f"{func}.rulekit.yaml"
    _write(
        fixture,
        FIXTURE_TEMPLATE.format(
            rule_name=rule_name,
            module=module,
            sample_id=sample_id,
            path=fixture,
            schema=schema_uri(),
        ),
        force,
    )
    return fixture


def run(args: argparse.Namespace) -> int:
    if not _NAME.match(args.name):
        raise UsageError(f"{args.name!r}: use lower-case letters, digits, '-' and '_'")
    target = Path(args.dir)
    if args.kind == "rule":
        if not args.resource_type:
            raise UsageError("new rule needs --resource-type, e.g. ACS::ECS::Instance")
        _check_type(args.resource_type)
        module = _identifier(args.name)
        fixture = _rule_files(args.name, args.resource_type, module, target, target, args.force)
        print(f"next: rulekit test {fixture}")
        return 0
    package = f"rulekit_{_identifier(args.name)}"
    root = target / f"rulekit-{args.name}"
    resource_type = args.resource_type or "ACS::ECS::Instance"
    _check_type(resource_type)
    _write(
        root / "pyproject.toml",
        PYPROJECT_TEMPLATE.format(name=args.name, package=package),
        args.force,
    )
    _write(root / "README.md", README_TEMPLATE.format(name=args.name), args.force)
    _write(
        root / package / "__init__.py",
        f'"""rulekit rule pack {args.name}: its rules are defined in .rules."""\n\n'
        "from . import rules  # noqa: F401 - defines the pack's rules\n",
        args.force,
    )
    rule_name = f"{args.name}-required-tag"
    _rule_files(
        rule_name,
        resource_type,
        f"{package}.rules",
        root / package,
        root / "tests" / "fixtures",
        args.force,
    )
    _event_file(
        root / "tests" / "events" / "untagged.json",
        resource_type,
        f"{resource_type.split('::')[1].lower()}-sample-2",
        args.force,
    )
    print(f"next: rulekit test {root}   (or: pip install -e {root} && rulekit list)")
    return 0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("new", help="scaffold a rule (with a fixture) or a rule pack")
    parser.add_argument("kind", choices=("rule", "pack"))
    parser.add_argument("name", help="rule or pack name (lower-case, '-' allowed)")
    parser.add_argument("--resource-type", metavar="TYPE", help="e.g. ACS::ECS::Instance")
    parser.add_argument("--dir", default=".", help="where to write (default: .)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(run=run)
