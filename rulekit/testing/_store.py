"""The emulator's discovered resources: what GetDiscoveredResource / ListDiscoveredResources serve.

Example::

    emulator.store.add("ACS::ECS::Instance", "i-1", configuration={"ImageId": "m-1"},
                       region="cn-hangzhou", tags={"env": ["prod"]})
"""

from __future__ import annotations

import json
import threading
import time
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
    #: When Config last recorded the resource (ms): by default, when it was added to the store.
    update_time: int = field(default_factory=lambda: int(time.time() * 1000))
    vpc_id: str = ""
    vswitch_id: str = ""

    def configuration_text(self) -> str:
        if isinstance(self.configuration, str):
            return self.configuration
        return json.dumps(self.configuration, separators=(",", ":"))

    def _common(self) -> dict[str, Any]:
        # Field names and types from the official 2020-09-07 models (tests/test_contract.py).
        return {
            "AccountId": int(self.account_id) if _digits(self.account_id) else self.account_id,
            "AvailabilityZone": "",
            "Region": self.region,
            "ResourceCreationTime": self.creation_time,
            "ResourceDeleted": 0 if self.deleted else 1,
            "ResourceId": self.resource_id,
            "ResourceName": self.name or "",
            "ResourceStatus": self.status or "",
            "ResourceType": self.resource_type,
            "Tags": json.dumps(dict(self.tags)),
            "VSwitchId": self.vswitch_id,
            "VpcId": self.vpc_id,
        }

    def detail(self) -> dict[str, Any]:
        """As DiscoveredResourceDetail (GetDiscoveredResource and GetAggregateDiscoveredResource):
        the platform's detail carries no ResourceGroupId."""
        return {**self._common(), "Configuration": self.configuration_text()}

    def profile(self, *, aggregate: bool = False) -> dict[str, Any]:
        """As an entry of DiscoveredResourceProfileList. Only ListDiscoveredResources carries
        ResourceGroupId; ListAggregateDiscoveredResources carries ResourceOwnerId instead."""
        profile = {
            **self._common(),
            "UpdateTime": self.update_time,
            "Version": 1,
        }
        if aggregate:
            profile["ResourceOwnerId"] = profile["AccountId"]
        else:
            profile["ResourceGroupId"] = self.resource_group_id or ""
        return profile


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


class ResourceStore:
    """Resources by (type, id, region), in insertion order, indexed for O(1) lookups so a
    100,000-resource sweep stays linear."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str], StoredResource] = {}
        self._by_id: dict[tuple[str, str], StoredResource] = {}
        self._selections: dict[tuple[Any, Any, bool], list[StoredResource]] = {}
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

    def select(
        self, types: set[str] | None, regions: set[str] | None, *, deleted: bool = False
    ) -> list[StoredResource]:
        """Retained (or, with ``deleted``, deleted) resources of ``types`` in ``regions``."""
        key = (
            frozenset(types) if types else None,
            frozenset(regions) if regions else None,
            deleted,
        )
        with self._lock:
            cached = self._selections.get(key)
            if cached is None:
                cached = self._selections[key] = [
                    item
                    for item in self._items.values()
                    if (not types or item.resource_type in types)
                    and (not regions or item.region in regions)
                    and item.deleted == deleted
                ]
            return cached

    def __iter__(self) -> Iterator[StoredResource]:
        with self._lock:
            return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)
