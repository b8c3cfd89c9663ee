"""Periodic sweeps: a ScheduledNotification without a configuration item evaluates every resource
of the rule's types in the account (or, with an aggregator, in its member accounts).

Resources are listed a page at a time (ListDiscoveredResources, MaxResults/NextToken), their
configurations fetched by up to ``concurrency`` threads, at the pace the API's quota allows
(GetDiscoveredResource, rulekit._pacing), and each one goes
through the dispatcher's own ``evaluate`` (the same scope check and assembly as a change event).
Evaluations stream into delivery as they are produced, so memory stays flat however large the
account is. The invocation's remaining time bounds the work itself, not only its submission:
a resource is not started (nor evaluated after its fetch) once only the reserve is left, work
still running then is left behind, and the sweep flushes and reports what was not evaluated.

The listing returns retained resources only (ResourceDeleted=1, the platform's default). Results
of resources deleted since the last run are cleared by DeleteMode when it is on; without it, the
resources deleted in the last ``deleted_lookback_days`` are listed too and reported
NOT_APPLICABLE (docs/sweeps.md).

Only ListDiscoveredResources' profiles carry the resource group. An aggregator sweep takes it from
the fetched configuration; where nothing gives it, a resource group scope cannot be decided and
the resource is INSUFFICIENT_DATA, counted as ``scopeUndecided`` (docs/scope.md).

Bad input does not stop a sweep (docs/sweeps.md): a configuration that cannot be fetched or
parsed, or a scope that cannot be checked (the folders of an account that left the resource
directory), is INSUFFICIENT_DATA and counted as an error; a rule that raises on one resource is
counted and logged with the resource id, and the others go on.

Example::

    sweep = Sweep(prepared, ctx, SweepOptions(concurrency=4), config=config_api,
                  judge=dispatcher.judge, folders=None, deadline=Deadline(None))
    failure = sweep.run(delivery, result)
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._advanced_search import SearchedResource, UndeclaredRead
from ._config_api import ConfigApi, DiscoveredPage, resource_from_profile
from ._directory import FolderLookups
from ._dispatcher import verdict
from ._errors import ApiError, EventError, RulekitError
from ._evaluation import Compliance
from ._invocation import Outcome
from ._pacing import RATE_LIMITED
from ._position import Position, Spot, Trail
from ._resource import Resource
from ._search_sweep import SEARCHED, SearchListing, search_applies
from ._settings import SweepOptions

if TYPE_CHECKING:
    from ._context import Context
    from ._deadline import Deadline
    from ._delivery import Delivery
    from ._invocation import InvocationResult
    from ._rule import Prepared
    from ._scope import FolderResolver

#: How a resource is judged once it has its configuration: Dispatcher.judge (scope, the rule,
#: evaluation hooks), given (prepared, resource, ctx).
Judge = Callable[["Prepared", Resource, "Context | None"], Outcome]

__all__ = ["Sweep", "SweepOptions"]

log = logging.getLogger("rulekit.sweep")


_DAY_MS = 24 * 3600 * 1000


class Sweep:
    """One sweep of the account for one prepared rule: ``config`` lists the resources and fetches
    their configurations, ``judge`` evaluates each one, ``folders`` resolves folder scopes and
    ``deadline`` bounds the work."""

    def __init__(
        self,
        prepared: Prepared,
        ctx: Context,
        options: SweepOptions,
        *,
        config: ConfigApi,
        judge: Judge,
        folders: FolderResolver | None,
        deadline: Deadline,
        start: Position | None = None,
        deleted_window: tuple[int, int] | None = None,
        hands_over: bool = False,
    ) -> None:
        self.config = config
        self.judge = judge
        self.deadline = deadline
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
        self._folders = FolderLookups(folders) if folders is not None else None
        # Where an earlier link of a chained sweep stopped (docs/sweeps.md), and where this
        # one stops (``cut`` after run).
        self._trail = Trail(start)
        self.deleted_window = deleted_window
        self.hands_over = hands_over
        self._search = self._search_listing()

    @property
    def cut(self) -> Position | None:
        """Where a next invocation would resume (None: the listing was read to its end)."""
        return self._trail.cut()

    def _search_listing(self) -> SearchListing | None:
        """The advanced-search listing when it can serve this rule, else None (per resource)."""
        if not self.options.advanced_search:
            return None
        if self.hands_over or self._trail.start is not None:
            # A chained sweep's position is a ListDiscoveredResources one (docs/sweeps.md).
            log.debug("rule %s: no advanced search in a chained sweep", self.prepared.rule.name)
            return None
        why = search_applies(self.prepared)
        if why is not None:
            log.debug("rule %s: no advanced search: %s", self.prepared.rule.name, why)
            return None
        return SearchListing(self.config, self.prepared, aggregator_id=self.options.aggregator_id)

    def run(self, delivery: Delivery, result: InvocationResult) -> RulekitError | None:
        """Evaluate and stream out every listed resource. Returns the error that ended the
        listing early (the evaluated resources are in ``delivery`` all the same), or None."""
        pages = self._pages()
        deadline = self.deadline
        listed, listing_done = 0, False
        totals: dict[bool, int | None] = {}  # listing (deleted or not) -> its TotalCount
        failure: RulekitError | None = None
        in_flight: set[Future[Outcome | None]] = set()
        concurrency = max(1, self.options.concurrency)
        window = concurrency * 4
        # Not a with-block: leaving one waits for every thread, and a rule still running when
        # the time is up must not hold the invocation past its end.
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rulekit-sweep")
        try:
            stopped = False
            trail, before = self._trail, None
            for deleted, first, page in pages:
                totals[deleted] = page.total if page.total is not None else totals.get(deleted)
                for offset, profile in enumerate(page.profiles):
                    rid = profile.get("ResourceId") if isinstance(profile, dict) else None
                    rid = None if rid is None else str(rid)
                    spot = Spot(deleted, first + offset, page.token, first, before, rid)
                    before = rid
                    if trail.skip(spot):
                        continue
                    if self._out_of_time():
                        trail.stopped(spot)
                        stopped = True
                        break
                    listed += 1
                    future = pool.submit(self._one, profile)
                    trail.started(spot, future)
                    in_flight.add(future)
                    if len(in_flight) >= window:
                        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        self._collect(done, delivery, result)
                if stopped:
                    break
            listing_done = not stopped
        except RulekitError as exc:  # the listing failed for good: deliver what was evaluated
            failure = exc
        finally:
            # Wait for the work in flight only until the reserve: what has not finished by then
            # is left behind (a thread cannot be stopped) and counted as not evaluated.
            left = deadline.remaining() - self.options.reserve
            done, in_flight = wait(in_flight, timeout=None if left == math.inf else max(0, left))
            self._collect(done, delivery, result)
            pool.shutdown(wait=False, cancel_futures=True)
        # Of the listings begun (deleted resources not yet listed are not counted).
        counts = [count for count in totals.values() if count is not None]
        total = sum(counts) if totals and len(counts) == len(totals) else None
        self._report(result, listed, total, listing_done, failure)
        if self._search is not None:
            result.advanced_search = self._search.stats.to_dict()
        return failure

    def _pages(self) -> Iterator[tuple[bool, int, DiscoveredPage]]:
        """(deleted, index of the page's first resource, page): the retained resources, then
        those deleted in the lookback window unless DeleteMode clears their stale results
        anyway; from where an earlier link stopped, if one did."""
        start = self._trail.start
        if self._search is not None:  # the rule's reads come with the listing (docs/sweeps.md)
            index = 0
            for page in self._search.pages():
                yield False, index, page
                index += len(page.profiles)
        elif start is None or not start.deleted:
            yield from self._listing(False, start)
        if self.options.delete_mode or self.options.deleted_lookback_days <= 0:
            return
        if self.deleted_window is None:  # (a chain keeps its first link's window)
            now = int(time.time() * 1000)
            self.deleted_window = (now - self.options.deleted_lookback_days * _DAY_MS, now)
        yield from self._listing(True, start if start is not None and start.deleted else None)

    def _listing(
        self, deleted: bool, start: Position | None
    ) -> Iterator[tuple[bool, int, DiscoveredPage]]:
        scope = self.prepared.scope
        types = scope.resource_types or self.prepared.rule.resource_types

        def pages(token: str | None) -> Iterator[DiscoveredPage]:
            return self.config.list_discovered_resources(
                types,
                scope.region_ids,
                aggregator_id=self.options.aggregator_id,
                deleted=deleted,
                updated_between=self.deleted_window if deleted else None,
                next_token=token,
            )

        index, listing = 0, pages(None)
        if start is not None and start.token:
            resumed = pages(start.token)
            try:
                first = next(resumed, None)
            except ApiError as exc:
                if exc.retryable:
                    raise
                # NextToken's lifetime is not documented: list again, skipping by index.
                log.warning("the previous link's NextToken was refused (%s): listing again", exc)
            else:
                if first is None:
                    return
                index, listing = start.page_start, itertools.chain([first], resumed)
                self._trail.skipped += index  # (the pages before it are not listed again)
        for page in listing:
            yield deleted, index, page
            index += len(page.profiles)

    def _out_of_time(self) -> bool:
        return self.deadline.remaining() <= self.options.reserve

    def _report(
        self,
        result: InvocationResult,
        listed: int,
        total: int | None,
        listing_done: bool,
        failure: RulekitError | None,
    ) -> None:
        evaluated = result.resources
        result.complete = listing_done and failure is None and evaluated == listed
        if result.complete:
            return
        if total is not None:  # (less what earlier links of a chained sweep evaluated)
            result.remaining = max(0, total - evaluated - self._trail.skipped)
        else:
            result.remaining = listed - evaluated if listing_done else None
        why = f"the listing failed ({failure})" if failure else "out of time"
        # A chained sweep's link stopping for time is the plan, not a warning (docs/sweeps.md).
        level = logging.INFO if self.hands_over and failure is None else logging.WARNING
        log.log(
            level,
            "rule %s: sweep stopped (%s) with %.1fs left; %s resource(s) not evaluated",
            self.prepared.rule.name,
            why,
            self.deadline.remaining(),
            "an unknown number of" if result.remaining is None else result.remaining,
        )

    def _collect(
        self, done: set[Future[Outcome | None]], delivery: Delivery, result: InvocationResult
    ) -> None:
        for future in done:
            outcome = future.result()  # (never raises: _one contains every error)
            if outcome is not None:
                result.add(outcome, delivery)
                self._trail.finished(future)

    def _one(self, profile: Any) -> Outcome | None:
        """Evaluate one listed resource (None: not started, the time ran out first). Whatever
        goes wrong stays with this resource: it is counted and named, and the sweep goes on."""
        if self._out_of_time():  # queued before the time ran out: leave it for the next sweep
            return None
        try:
            resource = resource_from_profile(profile)
        except RulekitError as exc:
            log.error("skipping a listed resource: %s", exc)
            return Outcome("(unreadable profile)", [], str(exc))
        name = f"{resource.type} {resource.id}"
        try:
            return self._evaluated(profile, resource, name)
        except RulekitError as exc:
            log.error("%s: %s", name, exc)
            return Outcome(name, [], str(exc))
        except Exception as exc:  # a bug must not cost the other resources their results
            log.exception("%s: unexpected error", name)
            return Outcome(name, [], f"unexpected {type(exc).__name__}: {exc}")

    def _evaluated(self, profile: Any, resource: Resource, name: str) -> Outcome | None:
        resource.account_id = resource.account_id or (self.ctx.event.account_id or "")
        if isinstance(profile, dict) and profile.get("ResourceDeleted") in (0, "0", False):
            return self._verdict(resource, Compliance.NOT_APPLICABLE, "resource deleted")
        try:
            outside = self._precheck.why_out_of_scope(resource, self._folders)
        except RulekitError as exc:  # e.g. GetAccount of an account that left the directory
            log.error("%s: scope cannot be checked: %s", name, exc)
            reason = f"scope cannot be checked: {exc}"
            return self._verdict(resource, Compliance.INSUFFICIENT_DATA, reason, error=str(exc))
        if outside is not None:
            return self.judge(self.prepared, resource, self.ctx.for_resource(resource))
        searched = profile.get(SEARCHED) if self._search is not None else None
        if searched is not None:
            searched.account_id = resource.account_id
            searched.resource_group_id = resource.resource_group_id
            outcome = self._judged(searched)
            if outcome is not None:
                self._search.stats.count(searched=True)  # type: ignore[union-attr]
                return outcome
            log.info("%s: %s; fetching its configuration", name, searched.undeclared)
        if self._search is not None:  # a searched type's resource served per resource
            self._search.stats.count(searched=False)
        try:
            resource = self.config.fetch_configuration(
                resource, aggregator_id=self.options.aggregator_id
            )
        except (ApiError, EventError) as exc:
            if isinstance(exc, ApiError) and exc.code == RATE_LIMITED:
                return None  # the pace would send it after the deadline: not evaluated
            log.error("%s: configuration unavailable: %s", name, exc)
            reason = f"configuration unavailable: {exc}"
            return self._verdict(resource, Compliance.INSUFFICIENT_DATA, reason, error=str(exc))
        if self._out_of_time():  # the fetch took the last of the time
            return None
        return self.judge(self.prepared, resource, self.ctx.for_resource(resource))

    def _judged(self, searched: SearchedResource) -> Outcome | None:
        """The outcome on a searched resource; None when the rule read something it did not
        declare (even if it caught the refusal): it must see the whole configuration instead."""
        try:
            outcome = self.judge(self.prepared, searched, self.ctx.for_resource(searched))
        except UndeclaredRead:
            return None
        return None if searched.undeclared else outcome

    def _verdict(
        self, resource: Resource, compliance: Compliance, why: str, error: str | None = None
    ) -> Outcome:
        """The sweep's own verdict on a resource the rule cannot judge, completed for delivery."""
        return verdict(resource, compliance, why, self.ctx.ordering_timestamp, error=error)
