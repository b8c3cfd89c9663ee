"""The dispatcher: from a decoded event to evaluations delivered to Cloud Config.

Order matters for "bad input sends nothing": the rule is selected and its scope and parameters
are validated before any resource is evaluated or anything is sent. Scope filtering, evaluation
assembly and delivery are one code path for every trigger type.

Example::

    dispatcher = Dispatcher(RuleSet.from_env(), config=config_api)
    result = dispatcher.dispatch(decode_event(raw), sink=ConfigSink(config_api, token))
    result.counts            # {'COMPLIANT': 1}
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .config_api import ConfigApi
from .context import Context
from .deadline import Deadline
from .delivery import Delivery, Sink
from .errors import EventError
from .evaluation import Compliance, Evaluation
from .event import ConfigEvent, parse_configuration
from .loader import RuleSet
from .resource import Resource
from .rule import Rule
from .scope import FolderResolver, Scope

__all__ = ["Dispatcher", "InvocationResult", "Prepared"]

log = logging.getLogger("rulekit.dispatcher")

#: How many evaluations an InvocationResult keeps for display (counts cover all of them).
KEEP_EVALUATIONS = 1000


@dataclass
class InvocationResult:
    """What one invocation did. Returned by the FC handler as a JSON-ready dict."""

    rule: str
    message_type: str
    resources: int = 0
    delivered: int = 0
    calls: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    evaluations: list[Evaluation] = field(default_factory=list, repr=False)

    def record(self, evaluation: Evaluation) -> None:
        self.counts[evaluation.compliance.value] += 1
        if len(self.evaluations) < KEEP_EVALUATIONS:
            self.evaluations.append(evaluation)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "messageType": self.message_type,
            "resources": self.resources,
            "evaluations": sum(self.counts.values()),
            "delivered": self.delivered,
            "putEvaluationsCalls": self.calls,
            "compliance": dict(sorted(self.counts.items())),
        }


@dataclass(frozen=True)
class Prepared:
    """A validated invocation: the rule, its effective scope and its parsed parameters."""

    rule: Rule
    scope: Scope
    params: Any


class Dispatcher:
    """Runs rules on decoded events. ``config`` is needed to fetch OVERSIZE configurations;
    ``folders`` resolves an account's resource-directory folders for folder scopes."""

    def __init__(
        self,
        rules: RuleSet | Iterable[Rule],
        *,
        config: ConfigApi | None = None,
        folders: FolderResolver | None = None,
        deadline: Deadline | None = None,
        requested_rule: str | None = None,
    ) -> None:
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet(rules)
        self.config = config
        self.folders = folders
        self.deadline = deadline or Deadline(None)
        self.requested_rule = requested_rule

    def prepare(self, event: ConfigEvent) -> Prepared:
        """Select the rule and validate scope overrides and parameters (nothing is sent)."""
        rule = self.rules.select(event.rule_name, self.requested_rule)
        overrides, own = Scope.split_parameters(event.rule_parameters)
        scope = rule.scope.override(overrides)
        if overrides:
            log.info(
                "rule %s: scope overridden by rule parameters %s",
                rule.name,
                ", ".join(sorted(overrides)),
            )
        params = rule.parse_params(own)
        if event.message_type not in rule.triggers:
            log.warning(
                "rule %s declares triggers %s but received a %s",
                rule.name,
                ", ".join(rule.triggers),
                event.message_type,
            )
        return Prepared(rule, scope, params)

    def dispatch(
        self,
        event: ConfigEvent,
        *,
        sink: Sink,
        fc_context: Any = None,
        prepared: Prepared | None = None,
    ) -> InvocationResult:
        """Evaluate the event's resource and deliver the evaluations through ``sink``."""
        prepared = prepared or self.prepare(event)
        resource = event.resource
        if resource is None:
            raise EventError(
                "this ScheduledNotification carries no configurationItem; evaluating every "
                "resource of the rule's types (a periodic sweep) is not supported by this build"
            )
        if event.oversize:
            resource = self.fetch_configuration(resource)
        result = InvocationResult(prepared.rule.name, event.message_type)
        delivery = Delivery(sink)
        ctx = Context(
            event=event,
            rule=prepared.rule,
            resource=resource,
            fc_context=fc_context,
            deadline=self.deadline,
        )
        for evaluation in self.evaluate(prepared, resource, ctx):
            delivery.add(evaluation)
            result.record(evaluation)
        result.resources += 1
        delivery.close()
        result.delivered, result.calls = delivery.delivered, delivery.calls
        log.info(
            "rule %s: %d evaluation(s) %s delivered in %d PutEvaluations call(s)",
            prepared.rule.name,
            sum(result.counts.values()),
            dict(result.counts),
            result.calls,
        )
        return result

    def evaluate(self, prepared: Prepared, resource: Resource, ctx: Context) -> list[Evaluation]:
        """Scope check, then the rule; every evaluation completed with region, account and the
        event's ordering timestamp."""
        reason = prepared.scope.why_out_of_scope(resource, self.folders)
        if reason is not None:
            log.debug(
                "rule %s: %s %s out of scope: %s",
                prepared.rule.name,
                resource.type,
                resource.id,
                reason,
            )
            evaluations = [
                Evaluation(
                    resource.id,
                    resource.type,
                    Compliance.NOT_APPLICABLE,
                    annotation=f"out of scope: {reason}",
                    resource_name=resource.name,
                )
            ]
        else:
            evaluations = prepared.rule.evaluate(resource, prepared.params, ctx)
            if not evaluations:
                log.warning(
                    "rule %s returned no evaluation for %s %s",
                    prepared.rule.name,
                    resource.type,
                    resource.id,
                )
        ordering = ctx.ordering_timestamp
        return [_complete(ev, resource, ordering) for ev in evaluations]

    def fetch_configuration(self, resource: Resource) -> Resource:
        """Fill in the configuration Cloud Config left out of an OVERSIZE event."""
        if self.config is None:
            raise EventError(
                f"the event for {resource.type} {resource.id} is OVERSIZE and no "
                "Config API client is available to fetch its configuration"
            )
        detail = self.config.get_discovered_resource(resource.id, resource.type, resource.region)
        configuration = parse_configuration(
            detail.get("Configuration"), f"{resource.type} {resource.id}"
        )
        fetched = Resource(**{slot: getattr(resource, slot) for slot in Resource.__slots__})
        fetched.configuration = configuration
        return fetched


def _complete(evaluation: Evaluation, resource: Resource, ordering: int) -> Evaluation:
    same = evaluation.resource_id == resource.id and evaluation.resource_type == resource.type
    changes: Mapping[str, Any] = {
        "region_id": evaluation.region_id or resource.region,
        "account_id": evaluation.account_id or resource.account_id,
        "ordering_timestamp": ordering,
        "resource_name": evaluation.resource_name or (resource.name if same else None),
    }
    return replace(evaluation, **changes)
