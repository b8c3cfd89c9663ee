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
from typing import TYPE_CHECKING, Any

from ._config_api import ConfigApi
from ._context import Context
from ._deadline import Deadline
from ._delivery import Delivery, Sink
from ._errors import DeliveryError, EvaluationError, EventError, RulekitError
from ._evaluation import Compliance, Evaluation, complete, for_resource
from ._event import ConfigEvent
from ._invocation import InvocationResult, Outcome
from ._loader import RuleSet
from ._resource import Resource
from ._rule import RULE_PARAMETER, Prepared, Rule
from ._scope import FolderResolver

if TYPE_CHECKING:
    from pluggy import HookRelay

    from ._calls import CloudApi
    from ._continuation import Chain
    from ._settings import SweepOptions

__all__ = ["Dispatcher", "prepare", "verdict"]

log = logging.getLogger("rulekit.dispatcher")


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
        chain: Chain | None = None,  # a chained sweep's link (RULEKIT_CONTINUE)
    ) -> None:
        self.chain = chain
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
        chain, sweep = self.chain, None
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
                start=chain.start if chain else None,
                deleted_window=chain.deleted_window if chain else None,
                hands_over=chain is not None and chain.may_hand_over,
            )
            if chain is not None:
                chain.resume(delivery)  # what the previous link left to send
            failure = sweep.run(delivery, result)  # listing failed: deliver, then fail
            clean = result.complete and result.errors == 0 and (chain is None or chain.clean)
            result.delete_mode = options.delete_mode and clean
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
        handed_over = False
        try:
            if chain is not None and sweep is not None:  # a chained sweep's link hands over
                handed_over = chain.hand_over(sweep, result, delivery, failure)
            if not handed_over:
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
            if chain is not None:
                result.chain = chain.summary(result, handed_over)
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
