"""The emulator's discovered resources: what GetDiscoveredResource / ListDiscoveredResources serve.

Example::

    emulator.store.add("ACS::ECS::Instance", "i-1", configuration={"ImageId": "m-1"},
                       region="cn-hangzhou", tags={"env": ["prod"]})
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_ACCOUNT_ID", "ResourceStore", "StoredResource"]

DEFAULT_ACCOUNT_ID = "1000000000001234"


@dataclass
class StoredResource:
    resource_type: str
    resource_id: str
    region: str
    account_id: str = DEFAULT_ACCOUNT_ID
    configuration: Any = field(default_factory=dict)  # a dict, or a raw string (bad-input tests)
    tags: Mapping[str, list[str]] = field(default_factory=dict)
    name: str | None = None
    status: str | None = "Running"
    resource_group_id: str | None = None
    deleted: bool = False
    creation_time: int = 1600000000000

    def configuration_text(self) -> str:
        if isinstance(self.configuration, str):
            return self.configuration
        return json.dumps(self.configuration, separators=(",", ":"))

    def detail(self) -> dict[str, Any]:
        """As DiscoveredResourceDetail (GetDiscoveredResource)."""
        return {
            "AccountId": int(self.account_id) if self.account_id.isdigit() else self.account_id,
            "AvailabilityZone": "",
            "Configuration": self.configuration_text(),
            "Region": self.region,
            "ResourceCreationTime": self.creation_time,
            "ResourceDeleted": 0 if self.deleted else 1,
            "ResourceGroupId": self.resource_group_id or "",
            "ResourceId": self.resource_id,
            "ResourceName": self.name or "",
            "ResourceStatus": self.status or "",
            "ResourceType": self.resource_type,
            "Tags": json.dumps(dict(self.tags)),
        }

    def profile(self) -> dict[str, Any]:
        """As an entry of DiscoveredResourceProfileList (ListDiscoveredResources)."""
        detail = self.detail()
        detail.pop("Configuration")
        detail.pop("AvailabilityZone")
        return detail


class ResourceStore:
    """Resources by (type, id, region), in insertion order, indexed for O(1) lookups so a
    100,000-resource sweep stays linear."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str], StoredResource] = {}
        self._by_id: dict[tuple[str, str], StoredResource] = {}
        self._selections: dict[tuple[Any, Any], list[StoredResource]] = {}
        self._lock = threading.Lock()

    def add(
        self, resource_type: str, resource_id: str, *, region: str = "cn-hangzhou", **fields: Any
    ) -> StoredResource:
        item = StoredResource(resource_type, resource_id, region, **fields)
        with self._lock:
            self._items[(resource_type, resource_id, region)] = item
            self._by_id.setdefault((resource_type, resource_id), item)
            self._selections.clear()
        return item

    def get(
        self, resource_type: str, resource_id: str, region: str | None
    ) -> StoredResource | None:
        with self._lock:
            if region is None:
                return self._by_id.get((resource_type, resource_id))
            return self._items.get((resource_type, resource_id, region))

    def select(self, types: set[str] | None, regions: set[str] | None) -> list[StoredResource]:
        key = (frozenset(types) if types else None, frozenset(regions) if regions else None)
        with self._lock:
            cached = self._selections.get(key)
            if cached is None:
                cached = self._selections[key] = [
                    item
                    for item in self._items.values()
                    if (not types or item.resource_type in types)
                    and (not regions or item.region in regions)
                ]
            return cached

    def __iter__(self) -> Iterator[StoredResource]:
        with self._lock:
            return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)
