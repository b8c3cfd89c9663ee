"""Expectation matching for fixture cases: does what a rule produced (its evaluations, or the
error it raised) meet the case's ``expect``? Loading fixture files is rulekit.testing._fixtures'.

``expect`` is a compliance type, a mapping (``compliance``, ``annotation``, ``resource_id``,
``resource_type``, ``region_id``, ``account_id``; ``error`` for an expected error; ``match``),
or a list of them, one per evaluation.

Example::

    >>> from rulekit import Evaluation
    >>> compare("COMPLIANT", [Evaluation("i-1", "ACS::ECS::Instance", "COMPLIANT")]) is None
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._errors import RulekitError
from .._evaluation import Compliance, Evaluation

__all__ = ["compare", "expected_error"]

_EXPECT_KEYS = {
    "compliance",
    "annotation",
    "resource_id",
    "resource_type",
    "region_id",
    "account_id",
    "error",
    "match",
}


def expected_error(expect: Any, exc: Exception) -> str | None:
    """Why ``exc`` fails the case's ``expect`` (None: the case expected this error)."""
    if isinstance(expect, dict) and "error" in expect:
        name = type(exc).__name__
        if expect["error"] != name:
            return f"expected error {expect['error']}, got {name}: {exc}"
        if "match" in expect and str(expect["match"]) not in str(exc):
            return f"expected the {name} message to contain {expect['match']!r}, got: {exc}"
        return None
    from ._tracebacks import rule_traceback

    shown = rule_traceback(exc)
    message = f"{type(exc).__name__}: {exc}"
    return message + ("\n" + shown if shown else "")


def compare(expect: Any, evaluations: list[Evaluation]) -> str | None:
    """None when ``evaluations`` meet ``expect``, else a message with expected vs actual."""
    if expect is None:
        return "the case has no 'expect'"
    wanted = expect if isinstance(expect, list) else [expect]
    try:
        specs = [_spec(item) for item in wanted]
    except RulekitError as exc:
        return str(exc)
    if any("error" in spec for spec in specs):
        return f"expected error {specs[0]['error']}, but the rule returned:\n" + _show(evaluations)
    problem = _match(specs, evaluations)
    if problem is None:
        return None
    return f"{problem}\n  expected: {_show_expect(specs)}\n  actual:\n{_show(evaluations)}"


def _spec(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"compliance": item}
    if not isinstance(item, dict):
        raise RulekitError(f"'expect' entries are a compliance type or a mapping, got {item!r}")
    bad = set(item) - _EXPECT_KEYS
    if bad:
        raise RulekitError(f"unknown expect key(s) {sorted(bad)}; expected {sorted(_EXPECT_KEYS)}")
    spec: dict[str, Any] = dict(item)
    if "compliance" in spec:
        spec["compliance"] = Compliance.coerce(spec["compliance"]).value
    return spec


def _annotation_matches(expected: Any, actual: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, dict):
        try:
            actual = json.loads(actual)
        except ValueError:
            return False
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _annotation_matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, str) and isinstance(actual, str):
        return expected in actual
    return bool(expected == actual)


def _fits(spec: Mapping[str, Any], ev: Evaluation) -> bool:
    checks = {
        "compliance": ev.compliance.value,
        "resource_id": ev.resource_id,
        "resource_type": ev.resource_type,
        "region_id": ev.region_id,
        "account_id": str(ev.account_id),
    }
    for key, actual in checks.items():
        if key in spec and str(spec[key]) != str(actual):
            return False
    return "annotation" not in spec or _annotation_matches(spec["annotation"], ev.annotation)


def _match(specs: list[dict[str, Any]], evaluations: list[Evaluation]) -> str | None:
    if len(specs) != len(evaluations):
        return f"expected {len(specs)} evaluation(s), got {len(evaluations)}"
    left = list(evaluations)
    for spec in specs:
        hit = next((ev for ev in left if _fits(spec, ev)), None)
        if hit is None:
            return "no evaluation matches an expectation"
        left.remove(hit)
    return None


def _show_expect(specs: list[dict[str, Any]]) -> str:
    return json.dumps(specs if len(specs) > 1 else specs[0], ensure_ascii=False, default=str)


def _show(evaluations: list[Evaluation]) -> str:
    if not evaluations:
        return "    (no evaluation)"
    return "\n".join(
        f"    {ev.resource_type} {ev.resource_id}: {ev.compliance.value}"
        + (
            f"  annotation: {json.dumps(ev.annotation, ensure_ascii=False, default=str)}"
            if ev.annotation is not None
            else ""
        )
        for ev in evaluations
    )
