"""Fixture files: test cases for rules as data, run by ``rulekit test`` and the pytest plugin.

```yaml
rule: ecs-instance-image-check      # the rule under test (a loaded rule, or one from `module`)
module: my_rules                    # optional: import this module first (from the file's folder)
params: {imageIds: "m-1,m-2"}       # rule parameters exactly as the platform sends them
api: {Ecs: {DescribeImages: {...}}} # optional: stubbed API responses (recorded JSON)
cases:
  - name: approved image
    resource: {id: i-001, region: cn-hangzhou, tags: {env: [prod]}, configuration: {ImageId: m-1}}
    expect: COMPLIANT
  - name: raw platform event
    event: events/change.json       # relative to this file, or an inline mapping
    expect: {compliance: NON_COMPLIANT, annotation: {desiredValue: ["m-1", "m-2"]}}
```

Strict by design: unknown keys, a file without cases, an unknown rule and a case that raises are
failures, never silent passes. Files are ``*.rulekit.yaml``, ``*.rulekit.yml`` or
``*.rulekit.json`` when found in a folder; a file named explicitly may have any name.

Example::

    cases, problems = collect([Path("tests/fixtures")])
    results = [run_case(case, session) for case in cases]
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import RulekitError
from .._evaluation import Evaluation
from .._event import SCHEDULED_NOTIFICATION
from ._events import change_event, scheduled_event
from ._expectations import compare, expected_error
from ._files import MAX_EVENT_BYTES, MAX_FIXTURE_BYTES, load_yaml, read_limited, text_of
from ._session import Session
from ._store import DEFAULT_ACCOUNT_ID

__all__ = [
    "FIXTURE_SUFFIXES",
    "Case",
    "CaseResult",
    "CollectionError",
    "FileProblem",
    "collect",
    "load_file",
    "run_case",
]

FIXTURE_SUFFIXES = (".rulekit.yaml", ".rulekit.yml", ".rulekit.json")
_FILE_KEYS = {"rule", "module", "params", "api", "cases", "description"}
_CASE_KEYS = {"name", "resource", "event", "params", "api", "expect", "skip", "trigger"}
_RESOURCE_KEYS = {
    "id",
    "type",
    "region",
    "account_id",
    "name",
    "tags",
    "configuration",
    "resource_group_id",
    "status",
}


class CollectionError(RulekitError):
    """A path cannot be read as fixtures at all (missing path, YAML/JSON syntax error)."""


@dataclass
class FileProblem:
    """A fixture file that is wrong as a whole: reported as one failure."""

    file: Path
    message: str

    @property
    def id(self) -> str:
        return f"{self.file}"

    @property
    def located(self) -> str:
        """The message with the file in front (once: some messages start with file:line)."""
        if self.message.startswith(f"{self.file}:"):
            return self.message
        return f"{self.file}: {self.message}"


@dataclass
class Case:
    file: Path
    index: int
    name: str
    rule: str
    data: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    api: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.file}::{self.rule}::{self.name}"


@dataclass
class CaseResult:
    case: Case
    status: str  # passed | failed | skipped
    message: str = ""
    seconds: float = 0.0
    evaluations: list[Evaluation] = field(default_factory=list)


def is_fixture_file(path: Path) -> bool:
    return path.name.endswith(FIXTURE_SUFFIXES)


def _read(path: Path) -> Any:
    # Bounded, UTF-8 checked and alias-safe: a fixture path may name anything (testing/_files.py).
    text = text_of(read_limited(path, MAX_FIXTURE_BYTES, CollectionError), path, CollectionError)
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CollectionError(f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise CollectionError(f"{path}: the JSON is nested too deeply to load") from None
    return load_yaml(text, path, CollectionError)


def load_file(path: Path) -> tuple[list[Case], list[FileProblem]]:
    """The cases of one fixture file, or the problems that make it a failure."""
    data = _read(path)
    if not isinstance(data, dict):
        return [], [FileProblem(path, "a fixture file is a mapping with 'rule' and 'cases'")]
    unknown = set(data) - _FILE_KEYS
    if unknown:
        return [], [
            FileProblem(path, f"unknown key(s) {sorted(unknown)}; expected {sorted(_FILE_KEYS)}")
        ]
    rule = data.get("rule")
    if not isinstance(rule, str) or not rule:
        return [], [FileProblem(path, "the fixture names no rule ('rule: <name>')")]
    cases = data.get("cases")
    if not isinstance(cases, list) or not cases:
        return [], [FileProblem(path, f"the fixture for {rule!r} has no cases")]
    shape = _shape_problem(data, "")
    if shape is not None:
        return [], [FileProblem(path, shape)]
    out: list[Case] = []
    problems: list[FileProblem] = []
    names: set[str] = set()
    for index, raw in enumerate(cases):
        if not isinstance(raw, dict):
            problems.append(FileProblem(path, f"case {index + 1} is not a mapping"))
            continue
        name = str(raw.get("name") or f"case {index + 1}")
        bad = set(raw) - _CASE_KEYS
        if bad:
            problems.append(
                FileProblem(
                    path,
                    f"case {name!r}: unknown key(s) {sorted(bad)}; expected {sorted(_CASE_KEYS)}",
                )
            )
            continue
        if name in names:
            name = f"{name} [{index + 1}]"
        names.add(name)
        shape = _shape_problem(raw, f"case {name!r}: ")
        if shape is not None:
            problems.append(FileProblem(path, shape))
            continue
        params = dict(data.get("params") or {})
        params.update(raw.get("params") or {})
        api = _merge_api(data.get("api") or {}, raw.get("api") or {})
        out.append(Case(path, index, name, rule, raw, params, api))
    return out, problems


def _shape_problem(data: Mapping[str, Any], where: str) -> str | None:
    """What is wrong with the shape of ``params`` / ``api`` in a file or a case, if anything:
    ``params`` maps parameter keys to values, ``api`` products to actions to responses."""
    params = data.get("params")
    if params is not None and not isinstance(params, dict):
        return f"{where}'params' must be a mapping of rule parameters, got {type(params).__name__}"
    api = data.get("api")
    if api is None:
        return None
    if not isinstance(api, dict):
        return f"{where}'api' must be a mapping of products, got {type(api).__name__}"
    for product, actions in api.items():
        if not isinstance(actions, dict):
            return (
                f"{where}'api.{product}' must be a mapping of actions to responses, "
                f"got {type(actions).__name__}"
            )
    return None


def _merge_api(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = {product: dict(actions) for product, actions in base.items()}
    for product, actions in extra.items():
        merged.setdefault(product, {}).update(actions)
    return merged


def collect(paths: Sequence[Path]) -> tuple[list[Case], list[FileProblem]]:
    """Cases and file problems under ``paths`` (files, or folders searched recursively).
    Raises CollectionError for a path that does not exist or a file that does not parse."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and is_fixture_file(p)
                    and ".venv" not in p.parts
                    and "site-packages" not in p.parts
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise CollectionError(f"{path}: no such file or folder")
    cases: list[Case] = []
    problems: list[FileProblem] = []
    for file in files:
        found, bad = load_file(file)
        cases.extend(found)
        problems.extend(bad)
    return cases, problems


def modules_of(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """(module, fixture file) for each fixture that names a ``module`` to import."""
    out = []
    for file in paths:
        try:
            data = _read(file)
        except CollectionError:
            continue
        if isinstance(data, dict) and isinstance(data.get("module"), str):
            out.append((data["module"], file))
    return out


def import_paths(file: Path) -> list[str]:
    """Folders a fixture's ``module`` is imported from: the file's folder, its pack's root (the
    nearest folder up with a pyproject.toml), and the current directory."""
    folders = [file.parent.resolve()]
    for parent in file.resolve().parents:
        if (parent / "pyproject.toml").exists():
            folders.append(parent)
            break
    folders.append(Path.cwd())
    return [str(f) for f in folders]


def add_import_paths(file: Path) -> None:
    for folder in import_paths(file):
        if folder not in sys.path:
            sys.path.insert(0, folder)


# -- running ---------------------------------------------------------------------------------
def case_event(case: Case, session: Session) -> Any:
    """The platform event a case runs on (its ``event``, or one built from its ``resource``)."""
    data = case.data
    if "event" in data and "resource" in data:
        raise RulekitError("a case gives either 'resource' or 'event', not both")
    if "event" in data:
        event = data["event"]
        if isinstance(event, str):
            return read_limited(case.file.parent / event, MAX_EVENT_BYTES, RulekitError)
        return event
    resource = data.get("resource")
    if resource is None:
        raise RulekitError("a case needs 'resource' or 'event'")
    if not isinstance(resource, dict):
        raise RulekitError("'resource' is a mapping (id, region, tags, configuration...)")
    bad = set(resource) - _RESOURCE_KEYS
    if bad:
        raise RulekitError(
            f"unknown resource key(s) {sorted(bad)}; expected {sorted(_RESOURCE_KEYS)}"
        )
    rule = session.rule(case.rule)
    kwargs: dict[str, Any] = {
        "region": resource.get("region", "cn-hangzhou"),
        "account_id": str(resource.get("account_id", DEFAULT_ACCOUNT_ID)),
        "tags": resource.get("tags") or {},
        "rule_parameters": case.params,
    }
    rtype = resource.get("type", rule.resource_types[0])
    _check_type(rtype, rule)
    rid = str(resource.get("id", "fixture-resource"))
    if data.get("trigger") == SCHEDULED_NOTIFICATION:
        return scheduled_event(rtype, rid, resource.get("configuration") or {}, **kwargs)
    return change_event(
        rtype,
        rid,
        resource.get("configuration") or {},
        name=resource.get("name"),
        resource_group_id=resource.get("resource_group_id"),
        status=resource.get("status", "Running"),
        **kwargs,
    )


def _check_type(resource_type: Any, rule: Any) -> None:
    """A resource type neither Cloud Config records (as far as rulekit knows) nor the rule
    declares is a typo until shown otherwise: the case fails instead of passing on a
    NOT_APPLICABLE nobody meant."""
    from .._resource_types import KNOWN_RESOURCE_TYPES, suggest

    if resource_type in KNOWN_RESOURCE_TYPES or resource_type in rule.resource_types:
        return
    likely = suggest(str(resource_type)) if isinstance(resource_type, str) else None
    hint = (
        f"did you mean {likely!r}?"
        if likely
        else (f"the rule's types are {', '.join(rule.resource_types)}")
    )
    raise RulekitError(f"unknown resource type {resource_type!r} in 'resource'; {hint}")


def unknown_rule(file: Path, rule: str, loaded: Iterable[str]) -> FileProblem:
    """The one problem of a fixture file whose rule is not loaded: ``file:line`` of its
    ``rule`` key, a did-you-mean, and how rules get loaded."""
    import difflib

    names = sorted(loaded)
    line = 1
    try:
        for number, text in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if text.lstrip().startswith(("rule:", '"rule"')):
                line = number
                break
    except OSError:
        pass
    close = difflib.get_close_matches(rule, names, n=1, cutoff=0.6)
    hint = (
        f"did you mean {close[0]!r}?"
        if close
        else "load its module with 'module:' in the file, -p MODULE, or an installed pack"
    )
    return FileProblem(file, f"{file}:{line}: unknown rule {rule!r}; {hint}")


def run_case(case: Case, session: Session) -> CaseResult:
    """Run one case; never raises for a problem in the case (it becomes a failure)."""
    started = time.perf_counter()
    skip = case.data.get("skip")
    if skip:
        return CaseResult(case, "skipped", str(skip) if skip is not True else "skipped")
    expect = case.data.get("expect")
    try:
        if case.rule not in session.plugins.rules:
            loaded = (r.name for r in session.plugins.rules)
            raise RulekitError(unknown_rule(case.file, case.rule, loaded).message)
        event = case_event(case, session)
        params = case.params or None  # an event file keeps its own ruleParameters
        evaluations = session.invoke(event, case.rule, params, case.api)
    except RulekitError as exc:
        message = expected_error(expect, exc)
        status = "passed" if message is None else "failed"
        return CaseResult(case, status, message or "", time.perf_counter() - started)
    except Exception as exc:  # a fixture that raises is a failure, reported, not a crash
        return CaseResult(
            case, "failed", f"raised {type(exc).__name__}: {exc}", time.perf_counter() - started
        )
    message = compare(expect, evaluations)
    return CaseResult(
        case,
        "failed" if message else "passed",
        message or "",
        time.perf_counter() - started,
        evaluations,
    )
