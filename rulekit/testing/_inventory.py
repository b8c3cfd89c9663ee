"""Resource inventories for the loopback emulator (``rulekit emulator --inventory FILE``).

An inventory is a list of resources, each in the fixture form (``id``, ``type``, ``region``,
``account_id``, ``name``, ``tags``, ``configuration``, ``resource_group_id``, ``status``) or in
the platform's ``DiscoveredResourceDetail`` form (``ResourceId``, ``ResourceType``, ``Region``,
``AccountId``, ``Configuration`` as a JSON string or object, ``Tags``...), so the output of
GetDiscoveredResource can be pasted in. Files:

- ``*.jsonl``: one resource per line;
- ``*.json``: a list, ``{"resources": [...]}``, or one GetDiscoveredResource response;
- fixture files (``*.rulekit.yaml`` / ``.yml`` / ``.json``): every case's ``resource``; a
  resource without ``type`` takes the first resource type of the fixture's rule.

Example::

    resources = read_inventory(Path("inventory.jsonl"))
    seed(emulator.store, resources)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .._errors import InventoryError
from .._resource_types import suggest
from .._rule_checks import RESOURCE_TYPE_PATTERN
from ._store import DEFAULT_ACCOUNT_ID, ResourceStore

__all__ = ["InventoryResource", "read_inventory", "seed"]

#: A resource as ``ResourceStore.add`` takes it: type, id, and keyword fields.
InventoryResource = dict[str, Any]

_PLATFORM_KEYS = {
    "ResourceId": "id",
    "ResourceType": "type",
    "Region": "region",
    "AccountId": "account_id",
    "ResourceName": "name",
    "Tags": "tags",
    "Configuration": "configuration",
    "ResourceGroupId": "resource_group_id",
    "ResourceStatus": "status",
}
_FIXTURE_KEYS = set(_PLATFORM_KEYS.values())
# Other fields of GetDiscoveredResource's DiscoveredResourceDetail and of ListDiscoveredResources'
# profiles (as the official SDK models name them): accepted, not served from an inventory.
_IGNORED_PLATFORM_KEYS = {
    "AvailabilityZone",
    "ComplianceType",
    "ResourceCreationTime",
    "ResourceDeleted",
    "UpdateTime",
    "Version",
    "VSwitchId",
    "VpcId",
}


def _normalise(item: Any, where: str, default_type: str | None) -> InventoryResource:
    if not isinstance(item, dict):
        raise InventoryError(f"{where}: a resource is a JSON object, got {type(item).__name__}")
    deleted = False
    if any(key in _PLATFORM_KEYS for key in item):
        unknown = set(item) - set(_PLATFORM_KEYS) - _IGNORED_PLATFORM_KEYS
        deleted = item.get("ResourceDeleted") == 0  # the platform's 0 means deleted
        item = {_PLATFORM_KEYS[k]: v for k, v in item.items() if k in _PLATFORM_KEYS}
    else:
        unknown = set(item) - _FIXTURE_KEYS
    if unknown:
        raise InventoryError(
            f"{where}: unknown key(s) {sorted(unknown)}; expected {sorted(_FIXTURE_KEYS)} "
            f"or the platform's {sorted(_PLATFORM_KEYS)}"
        )
    resource_type = item.get("type") or default_type
    if not isinstance(resource_type, str) or not RESOURCE_TYPE_PATTERN.match(resource_type):
        raise InventoryError(
            f"{where}: 'type' must be a resource type such as ACS::ECS::Instance, "
            f"got {resource_type!r}"
        )
    meant = suggest(resource_type)
    if meant is not None:  # a rule for the real type would never see it: say so now
        raise InventoryError(
            f"{where}: unknown resource type {resource_type!r}; did you mean {meant!r}?"
        )
    if not item.get("id"):
        raise InventoryError(f"{where}: the resource has no 'id'")
    configuration = _json_text(item, "configuration", where)
    tags = _json_text(item, "tags", where)
    if not isinstance(tags, dict):
        raise InventoryError(f"{where}: 'tags' maps keys to lists of values")
    return {
        "type": resource_type,
        "id": str(item["id"]),
        "region": str(item.get("region") or "cn-hangzhou"),
        "account_id": str(item.get("account_id") or DEFAULT_ACCOUNT_ID),
        "configuration": configuration,
        "tags": {str(k): v if isinstance(v, list) else [v] for k, v in tags.items()},
        "name": item.get("name"),
        "status": item.get("status", "Running"),
        "resource_group_id": item.get("resource_group_id"),
        "deleted": deleted,
    }


def _json_lines(path: Path, text: str) -> list[InventoryResource]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise InventoryError(f"{path}:{number}: not JSON: {exc}") from None
        except RecursionError:
            raise InventoryError(f"{path}:{number}: nested too deeply to load") from None
        out.append(_normalise(item, f"{path}:{number}", None))
    return out


def _json(path: Path, text: str) -> list[InventoryResource]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InventoryError(f"{path}: not JSON: {exc}") from None
    except RecursionError:
        raise InventoryError(f"{path}: nested too deeply to load") from None
    if isinstance(data, dict) and "DiscoveredResourceDetail" in data:
        data = [data["DiscoveredResourceDetail"]]
    elif isinstance(data, dict) and "resources" in data:
        data = data["resources"]
    if not isinstance(data, list):
        raise InventoryError(
            f'{path}: an inventory is a list of resources, {{"resources": [...]}} or a '
            "GetDiscoveredResource response"
        )
    return [_normalise(item, f"{path}: resource {n}", None) for n, item in enumerate(data, 1)]


def _fixture(path: Path, rule_types: Callable[[str], list[str]]) -> list[InventoryResource]:
    from ._fixtures import load_file

    cases, problems = load_file(path)
    if problems:
        raise InventoryError(f"{problems[0].file}: {problems[0].message}")
    out = []
    for case in cases:
        where = f"{path}: case {case.name!r}"
        resource = case.data.get("resource")
        if resource is None and "event" in case.data:
            out.append(_from_event(case.data["event"], path, where))
            continue
        named = isinstance(resource, dict) and "type" in resource
        types = [] if named else rule_types(case.rule)
        out.append(_normalise(resource, where, types[0] if types else None))
    return out


def _from_event(event: Any, fixture: Path, where: str) -> InventoryResource:
    """The configuration item of an ``event:`` case (a file next to the fixture, or inline)."""
    from .._errors import RulekitError
    from .._event import decode_event

    try:
        raw = (fixture.parent / event).read_bytes() if isinstance(event, str) else event
        item = decode_event(raw).resource
    except OSError as exc:
        raise InventoryError(f"{where}: cannot read event file {event}: {exc.strerror}") from None
    except RulekitError as exc:
        raise InventoryError(f"{where}: {exc}") from None
    if item is None:
        raise InventoryError(f"{where}: the event carries no configuration item")
    return _normalise(
        {
            "id": item.id,
            "type": item.type,
            "region": item.region,
            "account_id": item.account_id,
            "name": item.name,
            "tags": item.tags,
            "configuration": item.configuration,
            "resource_group_id": item.resource_group_id,
            "status": item.status,
        },
        where,
        None,
    )


def _json_text(item: dict[str, Any], key: str, where: str) -> Any:
    """``item[key]``, parsed when the platform's form gives it as JSON text (configuration, tags);
    {} when absent."""
    value = item.get(key) or {}
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise InventoryError(f"{where}: {key!r} is not JSON: {exc}") from None
    except RecursionError:
        raise InventoryError(f"{where}: {key!r} is nested too deeply to load") from None


def read_inventory(
    path: Path, rule_types: Callable[[str], list[str]] = lambda rule: []
) -> list[InventoryResource]:
    """The resources in one inventory file. ``rule_types(rule)`` gives the resource types of a
    fixture's rule, for fixture resources that name no ``type``."""
    from ._fixtures import is_fixture_file

    if is_fixture_file(path):
        return _fixture(path, rule_types)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc.strerror}") from None
    if path.suffix == ".jsonl":
        return _json_lines(path, text)
    if path.suffix == ".json":
        return _json(path, text)
    raise InventoryError(
        f"{path}: an inventory is a .json or .jsonl file, or a fixture file "
        "(*.rulekit.yaml / .yml / .json)"
    )


def seed(store: ResourceStore, resources: Iterable[InventoryResource]) -> int:
    """Add ``resources`` to ``store``; returns how many were added."""
    count = 0
    for item in resources:
        fields = dict(item)
        store.add(fields.pop("type"), fields.pop("id"), **fields)
        count += 1
    return count
