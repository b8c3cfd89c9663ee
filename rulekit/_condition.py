"""A condition in the platform's custom-condition-rule format: clauses on a featurePath and
and/or groups of them, parsed with every mistake named by its place, and evaluated against a
resource's configuration. The public face is :mod:`rulekit.conditions`.

Example::

    >>> group = parse_condition({"operator": "and", "children": [
    ...     {"featurePath": "$.Status", "operator": "StringEquals", "desired": "Running",
    ...      "children": []}]})
    >>> [clause.feature_path for clause in group.clauses()]
    ['$.Status']
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import RuleDefinitionError, RulekitError
from ._operators import OPERATORS, Operator, as_list
from ._paths import JsonPath, compile_path
from ._resource import Resource

__all__ = ["Clause", "Condition", "ConditionError", "Group", "InvalidClause", "parse_condition"]

_PARAM = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$")
_NO_VALUE = object()


class ConditionError(RulekitError):
    """A condition is malformed; raised (as RuleDefinitionError) when the rule is defined."""


@dataclass(frozen=True, eq=False)
class Clause:
    """One clause. ``data`` is the clause's platform JSON (kept whole, so export is lossless)."""

    data: dict[str, Any]
    where: str = "condition"
    _path: JsonPath = field(init=False, repr=False)
    _op: Operator = field(init=False, repr=False)
    _desired: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        feature = self.data.get("featurePath")
        op_name = self.data.get("operator")
        if not isinstance(feature, str) or not feature:
            raise ConditionError(f"{self.where}: a clause needs a featurePath (JSONPath)")
        op = OPERATORS.get(op_name) if isinstance(op_name, str) else None
        if op is None:
            raise ConditionError(
                f"{self.where}: unknown operator {op_name!r}; expected one of "
                f"{', '.join(OPERATORS)}"
            )
        try:
            compiled = compile_path(feature)
        except RulekitError as exc:
            raise ConditionError(f"{self.where}: {exc}") from None
        desired = self.data.get("desired", _NO_VALUE)
        if desired is _NO_VALUE or desired == "" or desired is None:
            if not op.unary:
                raise ConditionError(f"{self.where}: operator {op.name} needs a desired value")
            desired = None
        object.__setattr__(self, "_path", compiled)
        object.__setattr__(self, "_op", op)
        object.__setattr__(self, "_desired", _prepare(op, desired, self.where))
        if self.data.get("children"):
            raise ConditionError(f"{self.where}: a clause (with featurePath) has no children")

    @property
    def feature_path(self) -> str:
        return str(self.data["featurePath"])

    @property
    def operator(self) -> str:
        return self._op.name

    @property
    def desired(self) -> Any:
        return self.data.get("desired")

    def params(self) -> set[str]:
        return {name for name in _param_names(self._desired)}

    def failure(self, resource: Resource, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """None when the clause holds, else the platform-style annotation of the failure."""
        matches = self._path.find(resource.configuration)
        actual = matches if not self._path.singular else (matches[0] if matches else None)
        desired = _resolve(self._desired, values)
        if self._op.list_desired:
            desired = as_list(desired)
        if self._op.regex and isinstance(desired, str):
            desired = re.compile(desired)
        if self._op.holds(actual, desired):
            return None
        shown = desired.pattern if isinstance(desired, re.Pattern) else desired
        return {
            "configuration": actual,
            "desiredValue": shown,
            "operator": self._op.name,
            "property": self.feature_path,
        }

    def to_platform(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


@dataclass(frozen=True, eq=False)
class InvalidClause(Clause):
    """A builder clause that did not validate: kept until ``condition_rule`` can report it with
    the rule's name and file:line (the builder runs before the rule has either)."""

    error: str = ""

    def __post_init__(self) -> None:
        pass

    def params(self) -> set[str]:
        return set()

    def failure(self, resource: Resource, values: Mapping[str, Any]) -> dict[str, Any] | None:
        raise RuleDefinitionError(self.error)


@dataclass(frozen=True, eq=False)
class Group:
    """``and`` / ``or`` over clauses and groups. ``data`` keeps any extra keys for export."""

    operator: str
    children: tuple[Clause | Group, ...]
    data: dict[str, Any] = field(default_factory=dict)

    def params(self) -> set[str]:
        return set().union(*(child.params() for child in self.children))

    def clauses(self) -> list[Clause]:
        """Every clause, depth first."""
        out: list[Clause] = []
        for child in self.children:
            out.extend(child.clauses() if isinstance(child, Group) else [child])
        return out

    def feature_paths(self) -> tuple[str, ...]:
        """The distinct featurePaths of every clause: what the condition reads of a
        configuration (a sweep reads just these by advanced search)."""
        return tuple(dict.fromkeys(clause.feature_path for clause in self.clauses()))

    def failure(self, resource: Resource, values: Mapping[str, Any]) -> dict[str, Any] | None:
        first: dict[str, Any] | None = None
        for child in self.children:
            failed = child.failure(resource, values)
            if failed is None and self.operator.lower() == "or":
                return None
            if failed is not None:
                if self.operator.lower() == "and":
                    return failed
                first = first or failed
        return first

    def to_platform(self) -> dict[str, Any]:
        out = copy.deepcopy(self.data)
        out["operator"] = self.operator
        out["children"] = [child.to_platform() for child in self.children]
        return out


Condition = Group


def _prepare(op: Operator, desired: Any, where: str) -> Any:
    if desired is None or _param_names(desired):
        return desired
    if op.numeric:
        try:
            float(desired)
        except (TypeError, ValueError):
            raise ConditionError(f"{where}: {op.name} needs a number, got {desired!r}") from None
    if op.regex:
        try:
            re.compile(str(desired))
        except re.error as exc:
            raise ConditionError(
                f"{where}: invalid regular expression {desired!r}: {exc}"
            ) from None
    return desired


def _param_names(desired: Any) -> list[str]:
    items = desired if isinstance(desired, list) else [desired]
    return [m.group(1) for item in items if isinstance(item, str) and (m := _PARAM.match(item))]


def _resolve(desired: Any, values: Mapping[str, Any]) -> Any:
    def one(item: Any) -> Any:
        if isinstance(item, str) and (m := _PARAM.match(item)):
            return values[m.group(1)]
        return item

    if isinstance(desired, list):
        out: list[Any] = []
        for item in desired:
            value = one(item)
            out.extend(value if isinstance(value, list) and item != value else [value])
        return out
    return one(desired)


def parse_condition(condition: Mapping[str, Any] | str, where: str = "condition") -> Group:
    """Parse the platform's condition JSON (a dict or a JSON string) into a checked Group.

    A bare clause at the top is wrapped in an ``and`` group. Raises ConditionError naming the
    clause (``children[1].children[0]``) when anything is wrong.
    """
    if isinstance(condition, str):
        try:
            condition = json.loads(condition)
        except ValueError as exc:
            raise ConditionError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(condition, Mapping):
        raise ConditionError(f"{where} must be a JSON object, got {type(condition).__name__}")
    node = _node(dict(condition), where)
    return node if isinstance(node, Group) else Group("and", (node,))


def _node(data: dict[str, Any], where: str) -> Clause | Group:
    if "featurePath" in data:
        return Clause(data, where)
    operator = data.get("operator")
    if not isinstance(operator, str) or operator.lower() not in ("and", "or"):
        raise ConditionError(f"{where}: a group's operator is 'and' or 'or', got {operator!r}")
    children = data.get("children")
    if not isinstance(children, list) or not children:
        raise ConditionError(f"{where}: a group needs a non-empty children list")
    nodes = []
    for index, child in enumerate(children):
        if not isinstance(child, Mapping):
            raise ConditionError(f"{where}.children[{index}] must be an object")
        nodes.append(_node(dict(child), f"{where}.children[{index}]"))
    extra = {k: v for k, v in data.items() if k not in ("operator", "children")}
    return Group(operator, tuple(nodes), extra)
