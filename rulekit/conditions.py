"""Declarative rules: a condition in exactly the platform's custom-condition-rule format.

A condition is a group ``{"operator": "and"|"or", "children": [...]}`` of clauses
``{"featurePath": "$.Status", "operator": "StringEquals", "desired": "Running", "children": []}``
and nested groups. A true condition means COMPLIANT; a false one is NON_COMPLIANT with the
platform-style annotation of the first failing clause. A desired value ``"{{name}}"`` refers to
the rule parameter ``name``. Everything is checked when the rule is defined.

Example::

    ecs_running = condition_rule(
        "ecs-instance-running", "ACS::ECS::Instance",
        all_of(path("$.Status").string_equals("Running"),
               path("$.Cpu").greater_or_equals(param("cpuCount"))))
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ._condition import (
    Clause,
    Condition,
    ConditionError,
    Group,
    InvalidClause,
    parse_condition,
)
from ._errors import RuleDefinitionError
from ._evaluation import Compliance
from ._resource import Resource
from ._rule import Rule

_NO_VALUE = object()

__all__ = [
    "Clause",
    "Condition",
    "Group",
    "PathBuilder",
    "all_of",
    "any_of",
    "condition_rule",
    "param",
    "parse_condition",
    "path",
]


# -- builder ---------------------------------------------------------------------------------
def param(name: str) -> str:
    """A reference to rule parameter ``name`` (as the platform spells it) in a desired value."""
    return "{{" + name + "}}"


def all_of(*children: Clause | Group) -> Group:
    """Every child holds (the platform's ``and``)."""
    return Group("and", tuple(children))


def any_of(*children: Clause | Group) -> Group:
    """At least one child holds (the platform's ``or``)."""
    return Group("or", tuple(children))


class PathBuilder:
    """Clauses on one featurePath: ``path("$.Status").string_equals("Running")``."""

    def __init__(self, feature_path: str) -> None:
        self.feature_path = feature_path

    def op(self, operator: str, desired: Any = _NO_VALUE) -> Clause:
        data: dict[str, Any] = {"featurePath": self.feature_path, "operator": operator}
        if desired is not _NO_VALUE:
            data["desired"] = list(desired) if isinstance(desired, (tuple, set)) else desired
        data["children"] = []
        where = f"path({self.feature_path!r}).{operator}"
        try:
            return Clause(data, where)
        except ConditionError as exc:
            return InvalidClause(data, where, error=str(exc))

    def string_equals(self, v: Any) -> Clause:
        return self.op("StringEquals", v)

    def not_string_equals(self, v: Any) -> Clause:
        return self.op("NotStringEquals", v)

    def string_in(self, v: Any) -> Clause:
        return self.op("StringIn", v)

    def not_string_in(self, v: Any) -> Clause:
        return self.op("NotStringIn", v)

    def string_contains(self, v: Any) -> Clause:
        return self.op("StringContains", v)

    def not_string_contains(self, v: Any) -> Clause:
        return self.op("NotStringContains", v)

    def matches(self, v: str) -> Clause:
        return self.op("StringMatch", v)

    def not_matches(self, v: str) -> Clause:
        return self.op("NotStringMatch", v)

    def is_string_empty(self) -> Clause:
        return self.op("IsStringEmpty")

    def is_string_not_empty(self) -> Clause:
        return self.op("IsStringNotEmpty")

    def equals(self, v: Any) -> Clause:
        return self.op("Equals", v)

    def not_equals(self, v: Any) -> Clause:
        return self.op("NotEquals", v)

    def less(self, v: Any) -> Clause:
        return self.op("Less", v)

    def less_or_equals(self, v: Any) -> Clause:
        return self.op("LessOrEquals", v)

    def greater(self, v: Any) -> Clause:
        return self.op("Greater", v)

    def greater_or_equals(self, v: Any) -> Clause:
        return self.op("GreaterOrEquals", v)

    def contains(self, v: Any) -> Clause:
        return self.op("Contains", v)

    def not_contains(self, v: Any) -> Clause:
        return self.op("NotContains", v)

    def is_in(self, v: Any) -> Clause:
        return self.op("In", v)

    def not_in(self, v: Any) -> Clause:
        return self.op("NotIn", v)

    def contains_all(self, v: Any) -> Clause:
        return self.op("ContainsAll", v)

    def exclude_all(self, v: Any) -> Clause:
        return self.op("ExcludeAll", v)

    def is_empty(self) -> Clause:
        return self.op("IsEmpty")

    def is_not_empty(self) -> Clause:
        return self.op("IsNotEmpty")


def path(feature_path: str) -> PathBuilder:
    """Start a clause on ``feature_path`` (JSONPath into the configuration)."""
    return PathBuilder(feature_path)


# -- rules -----------------------------------------------------------------------------------
def condition_rule(
    name: str,
    resource_type: str | Sequence[str],
    condition: Group | Clause | Mapping[str, Any] | str,
    **metadata: Any,
) -> Rule:
    """Define (and register in the calling module) a rule from a condition.

    ``condition``: the platform's JSON (dict or string) or the builder's Group/Clause.
    ``metadata``: the ``@rule`` keywords (description, risk_level, scope, triggers, frequency,
    params). Without a ``params`` model, referenced parameters are required raw strings.
    """
    caller = sys._getframe(1)
    location = f"{caller.f_code.co_filename}:{caller.f_lineno}"
    try:
        if isinstance(condition, Clause):
            condition = Group("and", (condition,))
        group = condition if isinstance(condition, Group) else parse_condition(condition)
    except ConditionError as exc:
        raise RuleDefinitionError(f"rule {name!r} ({location}): {exc}") from None
    for clause in group.clauses():
        if isinstance(clause, InvalidClause):
            raise RuleDefinitionError(f"rule {name!r} ({location}): {clause.error}")
    needed = sorted(group.params())
    model = metadata.get("params")

    def evaluate(resource: Resource, params: Any) -> Any:
        values = params.model_dump(by_alias=True) if hasattr(params, "model_dump") else params
        failed = group.failure(resource, values)
        if failed is None:
            return Compliance.COMPLIANT
        return Compliance.NON_COMPLIANT, failed

    types = [resource_type] if isinstance(resource_type, str) else list(resource_type)
    rule = Rule(
        evaluate,
        name=name,
        resource_types=types,
        location=location,
        module=caller.f_globals.get("__name__"),
        module_level=caller.f_code.co_name == "<module>",
        **metadata,
    )
    rule.condition = group
    rule.reads = group.feature_paths()
    if model is None:
        rule.required_params = tuple(needed)
    else:
        known = {f.key for f in model.param_fields().values()}
        unknown = [n for n in needed if n not in known]
        if unknown:
            raise RuleDefinitionError(
                f"rule {name!r} ({location}): the condition refers to "
                f"{unknown}, which {model.__name__} does not declare"
            )
    return rule
