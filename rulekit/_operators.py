"""The condition operators of Cloud Config's custom condition rules, with their semantics.

Names are the platform's (ListConfigRuleOperators and the condition-rule documentation), grouped
by the data type the platform pairs them with. rulekit adds ``IsStringNotEmpty``, ``IsNotEmpty``
and the regex pair ``StringMatch`` / ``NotStringMatch`` (not in the platform's list: a rule using
them cannot be exported as a platform condition rule). Semantics: docs/conditions.md.

Example::

    >>> OPERATORS["StringIn"].holds("Running", ["Running", "Starting"])
    True
    >>> OPERATORS["ContainsAll"].holds(["env", "team"], ["env"])
    True
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["OPERATORS", "PLATFORM_OPERATORS", "Operator", "as_list", "as_text"]


def as_text(value: Any) -> str | None:
    """A scalar as the platform compares it: booleans as "true"/"false", None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return None
    return str(value)


def as_list(value: Any) -> list[Any]:
    """A desired list: a list as is, a JSON-ish or comma-separated string split, else [value]."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _texts(values: Any) -> set[str]:
    return {t for t in (as_text(v) for v in as_list(values)) if t is not None}


def _elements(actual: Any) -> list[Any]:
    if actual is None:
        return []
    return list(actual) if isinstance(actual, (list, tuple)) else [actual]


def _empty(actual: Any) -> bool:
    return actual is None or actual == "" or actual == [] or actual == {}


def _blank(actual: Any) -> bool:
    # A wildcard result is blank when it is empty or every element is.
    if isinstance(actual, list):
        return all(_empty(item) for item in actual)
    return _empty(actual)


def _decoded(actual: Any) -> str | None:
    text = as_text(actual)
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


def _compare(test: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def holds(actual: Any, desired: Any) -> bool:
        a, d = _number(actual), _number(desired)
        return a is not None and d is not None and test(a, d)

    return holds


def _string(test: Callable[[str, Any], bool]) -> Callable[[Any, Any], bool]:
    def holds(actual: Any, desired: Any) -> bool:
        text = as_text(actual)
        return text is not None and test(text, desired)

    return holds


def _regex(actual: str, desired: Any) -> bool:
    pattern = desired if isinstance(desired, re.Pattern) else re.compile(str(desired))
    return pattern.search(actual) is not None


class Operator(NamedTuple):
    """``kind``: "scalar" operators apply to one value (every element of a wildcard result must
    satisfy them); "array" operators apply to the whole list; "unary" ones take no desired
    value. ``list_desired``: the desired value is a list (comma-separated strings accepted)."""

    name: str
    kind: str
    test: Callable[[Any, Any], bool]
    list_desired: bool = False
    numeric: bool = False
    regex: bool = False

    @property
    def unary(self) -> bool:
        return self.kind == "unary"

    def holds(self, actual: Any, desired: Any = None) -> bool:
        """Whether the clause holds for ``actual`` (a value, or a list from a wildcard path)."""
        if self.kind == "scalar" and isinstance(actual, list):
            return bool(actual) and all(self.test(item, desired) for item in actual)
        return self.test(actual, desired)


def _not(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda actual, desired: not test(actual, desired)


def _not_present(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    # A negated scalar test on a missing value is false too: missing data never passes.
    return lambda actual, desired: as_text(actual) is not None and not test(actual, desired)


_string_equals = _string(lambda a, d: a == as_text(d))
_string_in = _string(lambda a, d: a in _texts(d))
_string_contains = _string(lambda a, d: (as_text(d) or "") in a)
_string_match = _string(_regex)
_equals = _compare(lambda a, d: a == d)
_contains = lambda actual, desired: bool(_texts(_elements(actual)) & _texts(desired))  # noqa: E731
_in = lambda actual, desired: _texts(_elements(actual)) <= _texts(desired)  # noqa: E731
_contains_all = lambda actual, desired: _texts(desired) <= _texts(_elements(actual))  # noqa: E731


def _b64_contains(actual: Any, desired: Any) -> bool:
    text = _decoded(actual)
    return text is not None and (as_text(desired) or "") in text


def _b64_not_contains(actual: Any, desired: Any) -> bool:
    text = _decoded(actual)
    return text is not None and (as_text(desired) or "") not in text


def _b64_all(actual: Any, desired: Any) -> bool:
    text = _decoded(actual)
    return text is not None and all(d in text for d in _texts(desired))


def _b64_none(actual: Any, desired: Any) -> bool:
    text = _decoded(actual)
    return text is not None and not any(d in text for d in _texts(desired))


_ALL = (
    # String
    Operator("StringEquals", "scalar", _string_equals),
    Operator("NotStringEquals", "scalar", _not_present(_string_equals)),
    Operator("StringIn", "scalar", _string_in, list_desired=True),
    Operator("NotStringIn", "scalar", _not_present(_string_in), list_desired=True),
    Operator("StringContains", "scalar", _string_contains),
    Operator("NotStringContains", "scalar", _not_present(_string_contains)),
    Operator("IsStringEmpty", "unary", lambda a, d: _blank(a)),
    Operator("IsStringNotEmpty", "unary", lambda a, d: not _blank(a)),
    Operator("StringMatch", "scalar", _string_match, regex=True),
    Operator("NotStringMatch", "scalar", _not_present(_string_match), regex=True),
    # Number
    Operator("Equals", "scalar", _equals, numeric=True),
    Operator("NotEquals", "scalar", _compare(lambda a, d: a != d), numeric=True),
    Operator("Less", "scalar", _compare(lambda a, d: a < d), numeric=True),
    Operator("LessOrEquals", "scalar", _compare(lambda a, d: a <= d), numeric=True),
    Operator("Greater", "scalar", _compare(lambda a, d: a > d), numeric=True),
    Operator("GreaterOrEquals", "scalar", _compare(lambda a, d: a >= d), numeric=True),
    # Base64 string
    Operator("Base64Contains", "scalar", _b64_contains),
    Operator("NotBase64Contains", "scalar", _b64_not_contains),
    Operator("Base64ContainsAll", "scalar", _b64_all, list_desired=True),
    Operator("Base64ExcludeAll", "scalar", _b64_none, list_desired=True),
    # Array
    Operator("Contains", "array", _contains, list_desired=True),
    Operator("NotContains", "array", _not(_contains), list_desired=True),
    Operator("In", "array", _in, list_desired=True),
    Operator(
        "NotIn", "array", lambda a, d: not (_texts(_elements(a)) & _texts(d)), list_desired=True
    ),
    Operator("ContainsAll", "array", _contains_all, list_desired=True),
    Operator("ExcludeAll", "array", _not(_contains), list_desired=True),
    Operator("IsEmpty", "unary", lambda a, d: _empty(a)),
    Operator("IsNotEmpty", "unary", lambda a, d: not _empty(a)),
)

#: Every operator rulekit evaluates, by platform name.
OPERATORS: dict[str, Operator] = {op.name: op for op in _ALL}
#: The ones the platform lists itself (exportable as a platform condition rule).
PLATFORM_OPERATORS = frozenset(OPERATORS) - {
    "IsStringNotEmpty",
    "IsNotEmpty",
    "StringMatch",
    "NotStringMatch",
}
