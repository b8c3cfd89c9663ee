"""A sweep's listing by advanced search: the resources and the properties the rule reads, up to
1,000 a call, instead of ListDiscoveredResources pages and one GetDiscoveredResource each.

Per resource type: one ``SELECT RegionId, COUNT(1) ... GROUP BY RegionId`` gives the partition
plan (how many resources each region holds), then each region is read in keyset pages ordered by
ResourceId (``ResourceId > '<largest id so far>'``): an answer of 1,000 rows may have been cut,
so the next page starts after its largest id, and a shorter answer ends the region. A region
whose pages hold fewer resources than its count (an answer cut some other way, an SQL the
platform refused) is listed again with ListDiscoveredResources and whatever the search did not
return is fetched per resource: no listed resource is lost. A type whose reads the SQL cannot
express is listed and fetched as before. Every such fallback is logged and counted
(``advancedSearch`` in the invocation's summary, docs/sweeps.md).

Example::

    listing = SearchListing(config, prepared, aggregator_id=None)
    for page in listing.pages():      # DiscoveredPage, profiles carrying SEARCHED
        ...
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._advanced_search import (
    MAX_ROWS,
    SearchError,
    SearchPlan,
    answer_rows,
    count_sql,
    plan_reads,
    searched_resource,
    select_sql,
)
from ._config_api import ConfigApi, DiscoveredPage
from ._errors import ApiError

if TYPE_CHECKING:
    from ._rule import Prepared

__all__ = ["SEARCHED", "SearchListing", "SearchStats", "search_applies"]

log = logging.getLogger("rulekit.sweep")

#: The profile key carrying a searched resource (None: its row could not be decoded, fetch it).
SEARCHED = "rulekit:searched"


@dataclass
class SearchStats:
    """What the advanced search did in one sweep, for the invocation's summary."""

    calls: int = 0
    searched: int = 0  # resources evaluated from a search row
    fallbacks: int = 0  # resources of searched types fetched per resource instead
    reasons: list[str] = field(default_factory=list)  # why, once per cause
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, *, searched: bool) -> None:
        """One resource evaluated from its row (``searched``) or fetched per resource; sweep
        workers call this at once."""
        with self._lock:
            if searched:
                self.searched += 1
            else:
                self.fallbacks += 1

    def because(self, why: str) -> None:
        if why not in self.reasons and len(self.reasons) < 10:
            self.reasons.append(why)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "calls": self.calls,
            "searched": self.searched,
            "fallbacks": self.fallbacks,
        }
        if self.reasons:
            out["fallbackReasons"] = list(self.reasons)
        return out


def search_applies(prepared: Prepared) -> str | None:
    """Why the advanced search cannot serve this rule as configured (None: it can). A tag or
    resource-group scope needs the listing's tags and group, whose searched form is unverified."""
    scope = prepared.scope
    if prepared.rule.reads is None:
        return "the rule does not declare its reads"
    if scope.tag_keys or scope.tags or scope.exclude_tags or scope.needs_resource_group:
        return "a tag or resource group scope"
    return None


class SearchListing:
    """The retained resources of the rule's types in scope, page by page (see the module doc)."""

    def __init__(self, config: ConfigApi, prepared: Prepared, *, aggregator_id: str | None) -> None:
        self.config = config
        self.prepared = prepared
        self.aggregator_id = aggregator_id
        self.stats = SearchStats()

    def pages(self) -> Iterator[DiscoveredPage]:
        scope = self.prepared.scope
        types = scope.resource_types or self.prepared.rule.resource_types
        for resource_type in types:
            plan = plan_reads(self.prepared.rule, resource_type)
            if isinstance(plan, str):
                yield from self._fallback(resource_type, None, set(), plan)
                continue
            try:
                counts = self._counts(resource_type)
            except (ApiError, SearchError) as exc:
                yield from self._fallback(resource_type, None, set(), str(exc))
                continue
            regions = [r for r in counts if not scope.region_ids or r in scope.region_ids]
            # The sweep's total (for ``remaining``) is known only when one type is swept.
            total = sum(counts[r] for r in regions) if len(types) == 1 else None
            for region in regions:
                yield from self._region(plan, resource_type, region, counts[region], total)

    def _query(self, sql: str) -> list[dict[str, Any]]:
        action, params = "ListResourcesByAdvancedSearch", {"Sql": sql}
        if self.aggregator_id:
            action = "ListAggregateResourcesByAdvancedSearch"
            params["AggregatorId"] = self.aggregator_id
        self.stats.calls += 1
        return answer_rows(self.config.call(action, params), action)

    def _counts(self, resource_type: str) -> dict[str, int]:
        rows = self._query(count_sql(resource_type))
        if len(rows) >= MAX_ROWS:
            raise SearchError(f"{resource_type}: the count per region may have been cut")
        counts = {}
        for row in rows:
            region, count = row.get("RegionId"), row.get("COUNT(1)")
            if not isinstance(region, str) or not isinstance(count, int):
                raise SearchError(f"{resource_type}: a count per region is unreadable: {row}")
            counts[region] = count
        return counts

    def _region(
        self,
        plan: SearchPlan,
        resource_type: str,
        region: str,
        expected: int,
        total: int | None,
    ) -> Iterator[DiscoveredPage]:
        seen: set[tuple[str, str]] = set()
        after: str | None = None
        why: str | None = None
        try:
            while True:
                rows = self._query(select_sql(plan, resource_type, region, after))
                profiles, ids = [], []
                for row in rows:
                    profile = self._profile(row, plan, resource_type, region)
                    key = (profile["AccountId"], profile["ResourceId"])
                    ids.append(profile["ResourceId"])
                    if key not in seen:
                        seen.add(key)
                        profiles.append(profile)
                yield DiscoveredPage(profiles, total)
                if len(rows) < MAX_ROWS:
                    break
                if not ids or max(ids) == after:
                    raise SearchError("a full answer brought no id past the last one")
                after = max(ids)
            if len(seen) < expected:
                why = f"the search returned {len(seen)} of {expected} resources"
        except (ApiError, SearchError) as exc:
            why = str(exc)
        if why is not None:
            yield from self._fallback(resource_type, region, {rid for _, rid in seen}, why)

    def _profile(
        self, row: dict[str, Any], plan: SearchPlan, resource_type: str, region: str
    ) -> dict[str, Any]:
        rid = row.get("ResourceId")
        if not isinstance(rid, str) or not rid:
            raise SearchError(f"a row of {resource_type} in {region} has no ResourceId")
        account = row.get("AccountId")
        profile: dict[str, Any] = {
            "ResourceId": rid,
            "ResourceType": resource_type,
            "Region": row.get("RegionId") or region,
            "AccountId": "" if account is None else str(account),
            "ResourceName": row.get("ResourceName"),
            SEARCHED: searched_resource(row, plan, resource_type),
        }
        group = row.get("ResourceGroupId")
        if not self.aggregator_id and isinstance(group, str):
            # As ListDiscoveredResources' profiles carry it; the aggregator's do not.
            profile["ResourceGroupId"] = group
        return profile

    def _fallback(
        self, resource_type: str, region: str | None, done: set[str], why: str
    ) -> Iterator[DiscoveredPage]:
        """ListDiscoveredResources for what the search did not serve (per-resource fetches)."""
        where = f"{resource_type}" + (f" in {region}" if region else "")
        log.warning("advanced search: listing %s per resource instead: %s", where, why)
        self.stats.because(f"{where}: {why}")
        regions = [region] if region else list(self.prepared.scope.region_ids)
        for page in self.config.list_discovered_resources(
            [resource_type], regions, aggregator_id=self.aggregator_id
        ):
            kept = [p for p in page.profiles if not _listed(p, done)]
            yield DiscoveredPage(kept, None)


def _listed(profile: Any, done: set[str]) -> bool:
    return isinstance(profile, dict) and profile.get("ResourceId") in done
