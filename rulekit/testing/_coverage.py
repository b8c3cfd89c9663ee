"""What ``rulekit test --require-coverage`` requires of each rule under test:

- at least one fixture case;
- at least one case where the rule said COMPLIANT and one where it said NON_COMPLIANT (passing
  cases only: a failing case proves nothing);
- for condition rules, every clause decided the outcome in some case: flipping that clause's
  result alone would have flipped the rule's (the "unique cause" criterion of MC/DC).

Example::

    report = RuleCoverage("ecs-cpu-min-count-limit")
    report.missing()   # ['no fixture case']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._rule import Rule
from ..conditions import Clause, Group

__all__ = ["RuleCoverage", "deciding_clauses", "rules_under_test"]

_REQUIRED = ("COMPLIANT", "NON_COMPLIANT")


@dataclass
class RuleCoverage:
    rule: str
    cases: int = 0
    outcomes: set[str] = field(default_factory=set)
    #: For condition rules: each clause's description -> whether it decided some case.
    clauses: dict[str, bool] = field(default_factory=dict)
    ran: bool = False  # some case of the rule ran (not all filtered out by -k)

    def missing(self) -> list[str]:
        """What the rule lacks, in words; empty when covered."""
        if not self.cases:
            return ["no fixture case"]
        if not self.ran:
            return []  # every case filtered out (-k): nothing is known, nothing is claimed
        out = [f"no passing {kind} case" for kind in _REQUIRED if kind not in self.outcomes]
        out += [
            f"clause {text} never decided a case" for text, hit in self.clauses.items() if not hit
        ]
        return out


def _describe(index: int, clause: Clause) -> str:
    desired = "" if clause.desired in (None, "") else f" {clause.desired}"
    return f"{index} ({clause.feature_path} {clause.operator}{desired})"


def _holds(node: Clause | Group, truth: Mapping[int, bool]) -> bool:
    if isinstance(node, Group):
        values = (_holds(child, truth) for child in node.children)
        return any(values) if node.operator.lower() == "or" else all(values)
    return truth[id(node)]


def deciding_clauses(group: Group, resource: Any, values: Mapping[str, Any]) -> list[bool]:
    """For each clause of ``group`` (depth first), whether it decided the outcome on
    ``resource``: flipping its result alone flips the condition's."""
    clauses = group.clauses()
    truth = {id(c): c.failure(resource, values) is None for c in clauses}
    outcome = _holds(group, truth)
    decided = []
    for clause in clauses:
        flipped = {**truth, id(clause): not truth[id(clause)]}
        decided.append(_holds(group, flipped) != outcome)
    return decided


def new_report(rule: Rule, cases: int) -> RuleCoverage:
    report = RuleCoverage(rule.name, cases)
    if rule.condition is not None:
        report.clauses = {_describe(n, c): False for n, c in enumerate(rule.condition.clauses(), 1)}
    return report


def record_case(
    report: RuleCoverage,
    rule: Rule,
    outcomes: Iterable[str],
    resource: Any,
    values: Mapping[str, Any] | None,
) -> None:
    """Count one passing case: its outcomes, and for a condition rule the clauses that decided
    it (``resource`` and ``values`` as the rule saw them; None when unknown)."""
    report.outcomes.update(outcomes)
    if rule.condition is None or resource is None or values is None:
        return
    decided = deciding_clauses(rule.condition, resource, values)
    for (text, hit), now in zip(list(report.clauses.items()), decided, strict=True):
        report.clauses[text] = hit or now


def rules_under_test(
    rules: Iterable[Rule], named: set[str], paths: Iterable[Path], explicit_packs: set[str]
) -> list[Rule]:
    """The rules a ``rulekit test`` run is about: those its fixture files name, the rules of
    their packs, rules defined in files under ``paths``, and the packs given with ``-p``. Other
    installed packs are not under test."""
    roots = [p.resolve() for p in paths]

    def under(rule: Rule) -> bool:
        file = Path(rule.location.rsplit(":", 1)[0])
        try:
            resolved = file.resolve()
        except OSError:
            return False
        return any(resolved == root or root in resolved.parents for root in roots)

    every = list(rules)
    packs = set(explicit_packs) | {
        r.pack for r in every if r.pack is not None and (r.name in named or under(r))
    }
    return [r for r in every if r.name in named or r.pack in packs or under(r)]
