"""Periodic sweeps: a ScheduledNotification without a configuration item evaluates every resource
of the rule's types in the account (or, with an aggregator, in its member accounts).

Resources are listed a page at a time (ListDiscoveredResources, MaxResults/NextToken), their
configurations fetched with bounded concurrency (GetDiscoveredResource), and each one goes
through the dispatcher's own ``evaluate`` (the same scope check and assembly as a change event).
Evaluations stream into delivery as they are produced, so memory stays flat however large the
account is. Before starting each resource the sweep checks the invocation's remaining time; when
it runs short it stops, flushes, and reports how many resources were left.

The listing returns retained resources only (ResourceDeleted=1, the platform's default). Results
of resources deleted since the last run are cleared by DeleteMode when it is on; without it, the
resources deleted in the last ``deleted_lookback_days`` are listed too and reported
NOT_APPLICABLE (docs/sweeps.md).

Only ListDiscoveredResources' profiles carry the resource group. An aggregator sweep takes it from
the fetched configuration; where nothing gives it, a resource group scope cannot be decided and
the resource is INSUFFICIENT_DATA, counted as ``scopeUndecided`` (docs/scope.md).

Bad input does not stop a sweep (docs/sweeps.md): a configuration that cannot be fetched or
parsed is INSUFFICIENT_DATA and counted as an error; a rule that raises on one resource is
counted and logged with the resource id, and the others go on.

Example::

    Sweep(dispatcher, prepared, ctx, SweepOptions(concurrency=4)).run(delivery, result)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .config_api import ConfigApi, DiscoveredPage
from .dispatcher import Outcome
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


def resource_from_profile(profile: Any) -> Resource:
    """A Resource (without configuration) from a DiscoveredResourceProfileList entry."""
    if not isinstance(profile, dict):
        raise EventError(f"a resource profile is not an object: {profile!r:.80}")
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
        # Only ListDiscoveredResources carries it; "" there means the resource has no group,
        # while an absent key (the aggregator's listing) leaves it unknown until the fetch.
        resource_group_id=_text(profile.get("ResourceGroupId")),
        tags=parse_tags(profile.get("Tags")),
        creation_time=profile.get("ResourceCreationTime"),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_DAY_MS = 24 * 3600 * 1000


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
        # The aggregator's listing carries no resource group: that part is judged after the
        # fetch, from the configuration (see fetch_configuration).
        self._precheck = (
            replace(scope, resource_group_ids=(), exclude_resource_group_ids=())
            if options.aggregator_id
            else scope
        )

    def run(self, delivery: Delivery, result: InvocationResult) -> None:
        config = self.dispatcher.config
        if config is None:
            raise EventError("a periodic sweep needs the Config API (no credentials given)")
        pages = self._pages(config)
        deadline = self.dispatcher.deadline
        started = 0
        totals: dict[bool, int | None] = {}  # listing (deleted or not) -> its TotalCount
        in_flight: set[Future[Outcome]] = set()
        window = max(1, self.options.concurrency) * 4
        stopped = False
        with ThreadPoolExecutor(
            max_workers=max(1, self.options.concurrency), thread_name_prefix="rulekit-sweep"
        ) as pool:
            try:
                for deleted, page in pages:
                    totals[deleted] = page.total if page.total is not None else totals.get(deleted)
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
            # Of the listings begun (deleted resources not yet listed are not counted).
            counts = [count for count in totals.values() if count is not None]
            known = bool(totals) and len(counts) == len(totals)
            result.remaining = max(0, sum(counts) - started) if known else None
            log.warning(
                "rule %s: sweep stopped with %.1fs left; %s resource(s) not evaluated",
                self.prepared.rule.name,
                deadline.remaining(),
                "an unknown number of" if result.remaining is None else result.remaining,
            )

    def _pages(self, config: ConfigApi) -> Iterator[tuple[bool, DiscoveredPage]]:
        """(deleted, page): the retained resources, then those deleted in the lookback window
        unless DeleteMode clears their stale results anyway."""
        scope = self.prepared.scope
        types = scope.resource_types or self.prepared.rule.resource_types
        aggregator = self.options.aggregator_id
        for page in config.list_discovered_resources(
            types, scope.region_ids, aggregator_id=aggregator
        ):
            yield False, page
        if not self._lists_deleted():
            return
        now = int(time.time() * 1000)
        window = (now - self.options.deleted_lookback_days * _DAY_MS, now)
        for page in config.list_discovered_resources(
            types, scope.region_ids, aggregator_id=aggregator, deleted=True, updated_between=window
        ):
            yield True, page

    def _lists_deleted(self) -> bool:
        return not self.options.delete_mode and self.options.deleted_lookback_days > 0

    def _collect(
        self, done: set[Future[Outcome]], delivery: Delivery, result: InvocationResult
    ) -> None:
        for future in done:
            result.add(future.result(), delivery)

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
            return self.dispatcher.judge(self.prepared, resource, ctx)
        except RulekitError as exc:
            log.error("%s: %s", name, exc)
            return Outcome(name, [], str(exc))

    def _marked(self, resource: Resource, compliance: Compliance, why: str) -> list[Evaluation]:
        """The sweep's own verdict on a resource the rule cannot judge, completed for delivery."""
        evaluation = Evaluation(
            resource.id, resource.type, compliance, annotation=why, resource_name=resource.name
        )
        return [complete(evaluation, resource, self.ctx.ordering_timestamp)]
