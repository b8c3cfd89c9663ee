"""What an invocation did: each resource's :class:`Outcome`, summed up in an
:class:`InvocationResult` that the FC handler returns as JSON.

Change-triggered and periodic evaluation both feed outcomes to ``InvocationResult.add``, the one
place where evaluations are handed to delivery and counted.

Example::

    result = InvocationResult(rule="ecs-image", message_type="ConfigurationItemChangeNotification")
    result.to_dict()["evaluations"]  # 0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._delivery import Delivery
from ._evaluation import Evaluation

__all__ = ["InvocationResult", "Outcome"]

#: How many evaluations / failures an InvocationResult keeps for display (counts cover all).
KEEP_EVALUATIONS = 1000
KEEP_FAILURES = 50


@dataclass(slots=True)
class InvocationResult:
    """What one invocation did. Returned by the FC handler as a JSON-ready dict."""

    rule: str
    message_type: str
    resources: int = 0
    delivered: int = 0
    calls: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # complianceType -> evaluations
    evaluations: list[Evaluation] = field(default_factory=list, repr=False)
    errors: int = 0
    failures: list[str] = field(default_factory=list)
    complete: bool = True
    remaining: int | None = 0
    delete_mode: bool = False
    #: Resources reported INSUFFICIENT_DATA because their scope could not be decided (their
    #: resource group is unknown, docs/scope.md).
    undecided: int = 0
    #: What the advanced search did in a sweep that used it (rulekit._search_sweep.SearchStats).
    advanced_search: dict[str, Any] | None = None
    #: A chained sweep's link: chain id, link number, chain totals, next link (docs/sweeps.md).
    chain: dict[str, Any] | None = None

    def add(self, outcome: Outcome, delivery: Delivery) -> None:
        """Deliver and count what evaluating one resource produced."""
        self.resources += 1
        for evaluation in outcome.evaluations:
            delivery.add(evaluation)
            self.record(evaluation)
        if outcome.error is not None:
            self.fail(outcome.resource, outcome.error)
        if outcome.undecided is not None:
            self.undecided += 1

    def record(self, evaluation: Evaluation) -> None:
        counts, compliance = self.counts, evaluation.compliance.value
        counts[compliance] = counts.get(compliance, 0) + 1
        if len(self.evaluations) < KEEP_EVALUATIONS:
            self.evaluations.append(evaluation)

    def fail(self, resource: str, message: str) -> None:
        """Count a resource the sweep could not evaluate properly."""
        self.errors += 1
        if len(self.failures) < KEEP_FAILURES:
            self.failures.append(f"{resource}: {message}"[:300])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "messageType": self.message_type,
            "resources": self.resources,
            "evaluations": sum(self.counts.values()),
            "delivered": self.delivered,
            "putEvaluationsCalls": self.calls,
            "compliance": dict(sorted(self.counts.items())),
            "complete": self.complete,
            "errors": self.errors,
        }
        if not self.complete:
            out["remaining"] = self.remaining
        if self.undecided:
            out["scopeUndecided"] = self.undecided
        if self.failures:
            out["failures"] = list(self.failures)
        if self.delete_mode:
            out["deleteMode"] = True
        if self.advanced_search is not None:
            out["advancedSearch"] = dict(self.advanced_search)
        if self.chain:
            out["chain"] = self.chain
        return out


@dataclass(frozen=True)
class Outcome:
    """What evaluating one resource produced: its evaluations, the error that kept it from being
    evaluated properly (counted as a failure), or why its scope could not be decided."""

    resource: str
    evaluations: list[Evaluation]
    error: str | None = None
    undecided: str | None = None
