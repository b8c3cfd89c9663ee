"""The dispatcher: from a decoded event to evaluations delivered to Cloud Config.

Order matters for "bad input sends nothing": the rule is selected and its scope and parameters
are validated before any resource is evaluated or anything is sent. Scope filtering, evaluation
assembly and delivery are one code path for change-triggered events and periodic sweeps.

Example::

    dispatcher = Dispatcher(RuleSet.from_env(), config=config_api)
    result = dispatcher.dispatch(decode_event(raw), sink=ConfigSink(config_api, token))
    result.counts            # {'COMPLIANT': 1}
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._config_api import ConfigApi
from ._context import Context
from ._deadline import Deadline
from ._delivery import Delivery, Sink
from ._errors import DeliveryError, EvaluationError, EventError, RulekitError
from ._evaluation import Compliance, Evaluation, complete, for_resource
from ._event import ConfigEvent
from ._loader import RuleSet
from ._resource import Resource
from ._rule import RULE_PARAMETER, Prepared, Rule
from ._scope import FolderResolver

if TYPE_CHECKING:
    from pluggy import HookRelay

    from ._calls import CloudApi
    from ._settings import SweepOptions

__all__ = [
    "RULE_PARAMETER",
    "Dispatcher",
    "InvocationResult",
    "Outcome",
    "Prepared",
    "complete",
    "prepare",
    "verdict",
]

log = logging.getLogger("rulekit.dispatcher")

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
        return out


@dataclass(frozen=True)
class Outcome:
    """What evaluating one resource produced: its evaluations, the error that kept it from being
    evaluated properly (counted as a failure), or why its scope could not be decided."""

    resource: str
    evaluations: list[Evaluation]
    error: str | None = None
    undecided: str | None = None


def verdict(
    resource: Resource,
    compliance: Compliance,
    why: str,
    ordering: int | None,
    *,
    error: str | None = None,
    undecided: str | None = None,
) -> Outcome:
    """The framework's own verdict on a resource the rule does not judge (deleted, scope
    undecided or uncheckable, configuration unavailable): one evaluation annotated with why."""
    return Outcome(
        f"{resource.type} {resource.id}",
        [for_resource(resource, compliance, why, ordering)],
        error=error,
        undecided=undecided,
    )


def prepare(rules: RuleSet, event: ConfigEvent, requested_rule: str | None = None) -> Prepared:
    """Select the event's rule from ``rules`` and validate its scope overrides and parameters
    (nothing is sent): ``requested_rule``, else the event's ``rulekit_rule`` parameter, else
    the rule named like the Config rule (or the only one)."""
    parameters = event.rule_parameters
    named = parameters.get(RULE_PARAMETER) if parameters else None
    if named is not None and not isinstance(named, str):
        raise EventError(
            f"ruleParameters.{RULE_PARAMETER} must be a rule name (text), "
            f"got {type(named).__name__}"
        )
    rule = rules.select(event.rule_name, requested_rule or named or None)
    prepared = rule.configure(parameters)
    if prepared.overridden:
        log.info(
            "rule %s: scope overridden by rule parameters %s",
            rule.name,
            ", ".join(prepared.overridden),
        )
    if event.message_type not in rule.triggers:
        log.warning(
            "rule %s declares triggers %s but received a %s",
            rule.name,
            ", ".join(rule.triggers),
            event.message_type,
        )
    return prepared


def _not_evaluated(result: InvocationResult, why: str) -> str:
    """What an incomplete sweep left out, for the error that ends the invocation."""
    if result.remaining is None:
        count = f"an unknown number of resources not evaluated ({result.resources} evaluated)"
    else:
        count = (
            f"{result.remaining} of {result.remaining + result.resources} resource(s) not evaluated"
        )
    return f"the sweep stopped early ({why}): {count}"


class Dispatcher:
    """Runs rules on decoded events. ``config`` fetches OVERSIZE configurations and lists
    resources for sweeps; ``folders`` resolves resource-directory folders; ``api`` serves
    ``ctx.call``; ``sweep`` tunes periodic sweeps."""

    def __init__(
        self,
        rules: RuleSet | Iterable[Rule],
        *,
        config: ConfigApi | None = None,
        folders: FolderResolver | None = None,
        deadline: Deadline | None = None,
        requested_rule: str | None = None,
        api: CloudApi | None = None,
        sweep: SweepOptions | None = None,
        hooks: HookRelay | None = None,
    ) -> None:
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet(rules)
        self.config = config
        self.folders = folders
        self.deadline = deadline or Deadline(None)
        self.requested_rule = requested_rule
        self.api = api
        self.sweep_options = sweep
        self.hooks = hooks  # the plugins' hooks (Plugins.hook), or None

    def prepare(self, event: ConfigEvent) -> Prepared:
        """:func:`prepare` with this dispatcher's rules and requested rule."""
        return prepare(self.rules, event, self.requested_rule)

    def dispatch(
        self,
        event: ConfigEvent,
        *,
        sink: Sink,
        fc_context: Any = None,
        prepared: Prepared | None = None,
    ) -> InvocationResult:
        """Evaluate the event's resource (or sweep the account) and deliver through ``sink``."""
        prepared = prepared or self.prepare(event)
        rule = prepared.rule
        result = InvocationResult(rule.name, event.message_type)
        delivery = Delivery(sink)
        failure: RulekitError | None = None
        resource = event.resource
        if resource is None:
            from ._settings import SweepOptions
            from ._sweep import Sweep

            options = self.sweep_options or SweepOptions()
            if self.config is None:
                raise EventError("a periodic sweep needs the Config API (no credentials given)")
            sweep = Sweep(
                prepared,
                self._context(event, rule, None, fc_context),
                options,
                config=self.config,
                judge=self.judge,
                folders=self.folders,
                deadline=self.deadline,
            )
            failure = sweep.run(delivery, result)  # listing failed: deliver, then fail
            result.delete_mode = options.delete_mode and result.complete and result.errors == 0
        else:
            if event.oversize:
                # An account group's rule gets its member accounts' events: their resources are
                # read through the aggregator, not in the function's own account.
                aggregator = self.sweep_options.aggregator_id if self.sweep_options else None
                if self.config is None:
                    raise EventError(
                        f"the configuration of {resource.type} {resource.id} must be "
                        "fetched and no Config API client is available"
                    )
                resource = self.config.fetch_configuration(resource, aggregator_id=aggregator)
            # Most rules take no context and most deployments have no evaluation hooks: the
            # context is built only for those that use it.
            ctx = (
                self._context(event, rule, resource, fc_context)
                if rule.takes_ctx or self._evaluation_hooks()
                else None
            )
            result.add(self.judge(prepared, resource, ctx, event.ordering_timestamp), delivery)
        try:
            delivery.close(delete_mode=result.delete_mode)
        except DeliveryError as error:
            # One error that states everything lost: what was not delivered, and what the
            # sweep never evaluated (a failed listing, the time running out).
            if failure is not None or not result.complete:
                why = f"the resource listing failed: {failure}" if failure else "out of time"
                raise error.also(_not_evaluated(result, why), result.remaining) from None
            raise
        finally:
            result.delivered, result.calls = delivery.delivered, delivery.calls
        if log.isEnabledFor(logging.INFO):  # the arguments cost more than the check
            log.info(
                "rule %s: %d resource(s), %d evaluation(s) %s delivered in %d "
                "PutEvaluations call(s)%s",
                rule.name,
                result.resources,
                sum(result.counts.values()),
                dict(result.counts),
                result.calls,
                f"; {result.errors} error(s)" if result.errors else "",
            )
        if failure is not None:
            failure.args = (f"{failure}; {_not_evaluated(result, 'the listing failed')}",)
            raise failure
        return result

    def _context(
        self, event: ConfigEvent, rule: Rule, resource: Resource | None, fc_context: Any
    ) -> Context:
        return Context(
            event=event,
            rule=rule,
            resource=resource,
            fc_context=fc_context,
            deadline=self.deadline,
            api=self.api,
        )

    def _evaluation_hooks(self) -> bool:
        return self.hooks is not None and bool(self.hooks.rulekit_evaluations.get_hookimpls())

    def judge(
        self,
        prepared: Prepared,
        resource: Resource,
        ctx: Context | None,
        ordering: int | None = None,
    ) -> Outcome:
        """:meth:`evaluate`, unless every known scope field lets ``resource`` in and its scope
        still cannot be decided (an unknown resource group): then the resource is
        INSUFFICIENT_DATA with the reason, never guessed in or out of scope."""
        scope = prepared.scope
        reason = scope.why_out_of_scope(resource, self.folders)
        undecided = None if reason is not None else scope.why_undecided(resource)
        if undecided is None:
            return Outcome(
                f"{resource.type} {resource.id}",
                self._evaluate(prepared, resource, ctx, ordering, reason),
            )
        log.warning("rule %s: %s", prepared.rule.name, undecided)
        if ctx is not None:
            ordering = ctx.ordering_timestamp
        return verdict(
            resource, Compliance.INSUFFICIENT_DATA, undecided, ordering, undecided=undecided
        )

    def evaluate(
        self,
        prepared: Prepared,
        resource: Resource,
        ctx: Context | None,
        ordering: int | None = None,
    ) -> list[Evaluation]:
        """Scope check, then the rule; every evaluation completed with region, account and the
        event's ordering timestamp (``ctx``'s, or ``ordering`` without one). ``ctx`` is None only
        when neither the rule nor a ``rulekit_evaluations`` hook takes one: the hooks run with
        a context. The evaluations of :meth:`judge`."""
        return self.judge(prepared, resource, ctx, ordering).evaluations

    def _evaluate(
        self,
        prepared: Prepared,
        resource: Resource,
        ctx: Context | None,
        ordering: int | None,
        reason: str | None,
    ) -> list[Evaluation]:
        """The rule's evaluations, or NOT_APPLICABLE for the out-of-scope ``reason``; then the
        evaluation hooks."""
        if ctx is not None:
            ordering = ctx.ordering_timestamp
        if reason is not None:
            log.debug(
                "rule %s: %s %s out of scope: %s",
                prepared.rule.name,
                resource.type,
                resource.id,
                reason,
            )
            evaluations = [
                for_resource(
                    resource, Compliance.NOT_APPLICABLE, f"out of scope: {reason}", ordering
                )
            ]
        else:
            evaluations = prepared.rule.evaluate(resource, prepared.params, ctx, ordering)
            if not evaluations:
                log.warning(
                    "rule %s returned no evaluation for %s %s",
                    prepared.rule.name,
                    resource.type,
                    resource.id,
                )
        if ctx is not None and self._evaluation_hooks():
            assert self.hooks is not None
            self.hooks.rulekit_evaluations(
                rule=prepared.rule, resource=resource, evaluations=evaluations, ctx=ctx
            )
            for item in evaluations:
                if not isinstance(item, Evaluation):
                    raise EvaluationError(
                        f"a rulekit_evaluations hook put a "
                        f"{type(item).__name__} among the evaluations of "
                        f"rule {prepared.rule.name!r}"
                    )
            # a hook may have added evaluations of its own
            return [complete(ev, resource, ordering) for ev in evaluations]
        return evaluations
