"""``ctx``: what a rule function may ask about the invocation it runs in.

Example::

    @rule(resource_type="ACS::ECS::Instance")
    def my_rule(resource, ctx):
        ctx.logger.info("evaluating at %s", ctx.ordering_timestamp)
        return Compliance.COMPLIANT
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .deadline import Deadline

if TYPE_CHECKING:
    from .event import ConfigEvent
    from .resource import Resource
    from .rule import Rule

__all__ = ["Context"]


class Context:
    """The invocation context passed to a rule function that names a ``ctx`` parameter.

    Attributes: ``event`` (the decoded :class:`~rulekit.event.ConfigEvent`), ``rule``,
    ``resource`` (the one being evaluated), ``ordering_timestamp``, ``account_id``,
    ``request_id`` and ``region`` of the FC invocation, ``deadline`` and ``logger`` (a logger
    whose records name the rule and resource).
    """

    __slots__ = (
        "account_id",
        "deadline",
        "event",
        "fc_context",
        "logger",
        "region",
        "request_id",
        "resource",
        "rule",
    )

    def __init__(
        self,
        *,
        event: ConfigEvent,
        rule: Rule,
        resource: Resource | None = None,
        fc_context: Any = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.event = event
        self.rule = rule
        self.resource = resource
        self.fc_context = fc_context
        self.deadline = deadline or Deadline(None)
        self.account_id = (resource.account_id if resource else None) or event.account_id
        self.request_id: str | None = getattr(fc_context, "request_id", None)
        self.region: str | None = getattr(fc_context, "region", None)
        extra = {"rule": rule.name, "resource_id": resource.id if resource else None}
        self.logger = logging.LoggerAdapter(logging.getLogger(f"rulekit.rule.{rule.name}"), extra)

    @property
    def ordering_timestamp(self) -> int:
        return self.event.ordering_timestamp

    def remaining_time(self) -> float:
        """Seconds this invocation may still run (``math.inf`` outside FC)."""
        return self.deadline.remaining()

    def for_resource(self, resource: Resource) -> Context:
        """The same context, evaluating another resource (periodic sweeps)."""
        return Context(
            event=self.event,
            rule=self.rule,
            resource=resource,
            fc_context=self.fc_context,
            deadline=self.deadline,
        )
