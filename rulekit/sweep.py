"""Periodic sweeps: a ScheduledNotification without a configuration item evaluates every resource
of the rule's types in the account (or, with an aggregator, in its member accounts).

Resources are listed a page at a time (ListDiscoveredResources, MaxResults/NextToken), their
configurations fetched with bounded concurrency (GetDiscoveredResource), and each one goes
through the dispatcher's own ``evaluate`` (the same scope check and assembly as a change event).
Evaluations stream into delivery as they are produced, so memory stays flat however large the
account is. Before starting each resource the sweep checks the invocation's remaining time; when
it runs short it stops, flushes, and reports how many resources were left.

Bad input does not stop a sweep (docs/sweeps.md): a deleted resource is NOT_APPLICABLE; a
configuration that cannot be fetched or parsed is INSUFFICIENT_DATA and counted as an error; a
rule that raises on one resource is counted and logged with the resource id, and the others go on.

Example::

    Sweep(dispatcher, prepared, ctx, SweepOptions(concurrency=4)).run(delivery, result)
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ._redact import shown
from .errors import ApiError, EventError, RulekitError
from .evaluation import Compliance, Evaluation, complete
from .resource import Resource
from .settings import SweepOptions
from .tags import parse_tags

if TYPE_CHECKING:
    from .context import Context
    from .delivery import Delivery
    from .dispatcher import Dispatcher, InvocationResult, Prepared

__all__ = ["Outcome", "Sweep", "SweepOptions"]

log = logging.getLogger("rulekit.sweep")


@dataclass(frozen=True)
class Outcome:
    """What evaluating one listed resource produced."""

    resource: str
    evaluations: list[Evaluation]
    error: str | None = None


def resource_from_profile(profile: Any) -> Resource:
    """A Resource (without configuration) from a DiscoveredResourceProfileList entry."""
    if not isinstance(profile, dict):
        raise EventError(f"a resource profile is not an object: {shown(profile)}")
    rid, rtype, region = (profile.get(k) for k in ("ResourceId", "ResourceType", "Region"))
    if not rid or not rtype or not region:
        raise EventError(
            f"a resource profile lacks ResourceId, ResourceType or Region: {sorted(profile)}"
        )
    account = profile.get("AccountId")
    return Resource(
        id=str(rid),
        type=str(rtype),
        region=str(region),
        account_id=str(account) if account not in (None, "") else "",
        name=profile.get("ResourceName") or None,
        status=profile.get("ResourceStatus") or None,
        resource_group_id=profile.get("ResourceGroupId") or None,
        tags=parse_tags(profile.get("Tags")),
        creation_time=profile.get("ResourceCreationTime"),
    )


class Sweep:
    """One sweep of the account for one prepared rule."""

    def __init__(
        self, dispatcher: Dispatcher, prepared: Prepared, ctx: Context, options: SweepOptions
    ) -> None:
        self.dispatcher = dispatcher
        self.prepared = prepared
        self.ctx = ctx
        self.options = options
        scope = prepared.scope
        # The profile list carries no resource group: judge that part after the fetch.
        self._precheck = replace(scope, resource_group_ids=(), exclude_resource_group_ids=())

    def run(self, delivery: Delivery, result: InvocationResult) -> None:
        config = self.dispatcher.config
        if config is None:
            raise EventError("a periodic sweep needs the Config API (no credentials given)")
        scope = self.prepared.scope
        pages = config.list_discovered_resources(
            scope.resource_types or self.prepared.rule.resource_types,
            scope.region_ids,
            aggregator_id=self.options.aggregator_id,
        )
        deadline = self.dispatcher.deadline
        started, total = 0, None
        in_flight: set[Future[Outcome]] = set()
        window = max(1, self.options.concurrency) * 4
        stopped = False
        with ThreadPoolExecutor(
            max_workers=max(1, self.options.concurrency), thread_name_prefix="rulekit-sweep"
        ) as pool:
            try:
                for page in pages:
                    total = page.total if page.total is not None else total
                    for profile in page.profiles:
                        if deadline.remaining() <= self.options.reserve:
                            stopped = True
                            break
                        started += 1
                        in_flight.add(pool.submit(self._one, profile))
                        if len(in_flight) >= window:
                            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                            self._collect(done, delivery, result)
                    if stopped:
                        break
            finally:
                done, _ = wait(in_flight)
                self._collect(done, delivery, result)
        result.complete = not stopped
        if stopped:
            result.remaining = max(0, total - started) if total is not None else None
            log.warning(
                "rule %s: sweep stopped with %.1fs left; %s resource(s) not evaluated",
                self.prepared.rule.name,
                deadline.remaining(),
                "an unknown number of" if result.remaining is None else result.remaining,
            )

    def _collect(
        self, done: set[Future[Outcome]], delivery: Delivery, result: InvocationResult
    ) -> None:
        for future in done:
            outcome = future.result()
            result.resources += 1
            for evaluation in outcome.evaluations:
                delivery.add(evaluation)
                result.record(evaluation)
            if outcome.error is not None:
                result.fail(outcome.resource, outcome.error)

    def _one(self, profile: Any) -> Outcome:
        try:
            resource = resource_from_profile(profile)
        except RulekitError as exc:
            log.error("skipping a listed resource: %s", exc)
            return Outcome("(unreadable profile)", [], str(exc))
        resource.account_id = resource.account_id or (self.ctx.event.account_id or "")
        name = f"{resource.type} {resource.id}"
        if isinstance(profile, dict) and profile.get("ResourceDeleted") in (0, "0", False):
            return Outcome(
                name, self._marked(resource, Compliance.NOT_APPLICABLE, "resource deleted")
            )
        if self._precheck.why_out_of_scope(resource, self.dispatcher.folders) is None:
            try:
                resource = self.dispatcher.fetch_configuration(
                    resource, aggregator_id=self.options.aggregator_id
                )
            except (ApiError, EventError) as exc:
                log.error("%s: configuration unavailable: %s", name, exc)
                reason = f"configuration unavailable: {exc}"
                marked = self._marked(resource, Compliance.INSUFFICIENT_DATA, reason)
                return Outcome(name, marked, str(exc))
        ctx = self.ctx.for_resource(resource)
        try:
            return Outcome(name, self.dispatcher.evaluate(self.prepared, resource, ctx))
        except RulekitError as exc:
            log.error("%s: %s", name, exc)
            return Outcome(name, [], str(exc))

    def _marked(self, resource: Resource, compliance: Compliance, why: str) -> list[Evaluation]:
        """The sweep's own verdict on a resource the rule cannot judge, completed for delivery."""
        evaluation = Evaluation(
            resource.id, resource.type, compliance, annotation=why, resource_name=resource.name
        )
        return [complete(evaluation, resource, self.ctx.ordering_timestamp)]
