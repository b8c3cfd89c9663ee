"""``ctx``: what a rule function may ask about the invocation it runs in.

Example::

    @rule(resource_type="ACS::ECS::Instance")
    def my_rule(resource, ctx):
        ctx.logger.info("evaluating at %s", ctx.ordering_timestamp)
        image = ctx.call("Ecs", "DescribeImages", ImageId=resource["$.ImageId"])
        return Compliance.COMPLIANT
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._deadline import Deadline
from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._calls import CloudApi
    from ._event import ConfigEvent
    from ._resource import Resource
    from ._rule import Rule

__all__ = ["Context"]


class Context:
    """The invocation context passed to a rule function that names a ``ctx`` parameter.

    Attributes: ``event`` (the decoded :class:`~rulekit._event.ConfigEvent`), ``rule``,
    ``resource`` (the one being evaluated), ``ordering_timestamp``, ``account_id``,
    ``request_id`` and ``region`` of the FC invocation, ``deadline`` and ``logger`` (a logger
    whose records name the rule and resource). ``call`` / ``paginate`` reach cloud APIs.
    """

    __slots__ = (
        "_logger",
        "account_id",
        "api",
        "deadline",
        "event",
        "fc_context",
        "ordering_timestamp",
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
        api: CloudApi | None = None,
    ) -> None:
        self.event = event
        self.rule = rule
        self.resource = resource
        self.fc_context = fc_context
        self.deadline = deadline or Deadline(None)
        self.api = api
        self.account_id = (resource.account_id if resource else None) or event.account_id
        self.ordering_timestamp: int = event.ordering_timestamp
        self.request_id: str | None = None
        self.region: str | None = None
        if fc_context is not None:  # (getattr on None with a default raises inside: slow)
            self.request_id = getattr(fc_context, "request_id", None)
            self.region = getattr(fc_context, "region", None)
        self._logger: logging.LoggerAdapter[logging.Logger] | None = None

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger named ``rulekit.rule.<rule>`` whose records carry the rule and resource."""
        if self._logger is None:  # built on first use: most rules never log
            extra = {
                "rule": self.rule.name,
                "resource_id": self.resource.id if self.resource else None,
            }
            self._logger = logging.LoggerAdapter(
                logging.getLogger(f"rulekit.rule.{self.rule.name}"), extra
            )
        return self._logger

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
            api=self.api,
        )

    def call(
        self,
        product: str,
        action: str,
        version: str | None = None,
        region: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Call any RPC API with the function's credentials and rulekit's retries, e.g.
        ``ctx.call("Ecs", "DescribeImages", RegionId=r, ImageId=i)``. ``account_id=`` runs it
        in a member account (STS AssumeRole). The region defaults to ``RegionId``, then the
        evaluated resource's region."""
        return self._cloud().call(product, action, version, self._region(region, params), **params)

    def paginate(
        self,
        product: str,
        action: str,
        items: str,
        version: str | None = None,
        region: str | None = None,
        **params: Any,
    ) -> Iterator[Any]:
        """Every item of a paged list API, e.g.
        ``ctx.paginate("Vpc", "DescribeFlowLogs", "FlowLogs.FlowLog", ResourceId=vpc)``."""
        return self._cloud().paginate(
            product, action, items, version, self._region(region, params), **params
        )

    def _region(self, region: str | None, params: dict[str, Any]) -> str | None:
        if region is None and "RegionId" not in params and self.resource is not None:
            return self.resource.region
        return region

    def _cloud(self) -> CloudApi:
        if self.api is None:
            raise ConfigurationError(
                f"rule {self.rule.name!r} calls a cloud API, but this "
                "invocation has no API access (no credentials given)"
            )
        return self.api
