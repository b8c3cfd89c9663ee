"""Resource tags as the platform sends them, normalised to ``{key: [values...]}``.

Cloud Config sends a configuration item's tags as a JSON *string* mapping each key to a list of
values (``"{\"env\":[\"prod\"]}"``); it has also been seen as ``""`` and ``"{}"``. Tests and API
responses may carry a mapping, a mapping of key to a single value, or a list of
``{"TagKey": ..., "TagValue": ...}`` / ``{"Key": ..., "Value": ...}`` pairs.

Example::

    >>> parse_tags('{"env":["prod"],"team":"payments"}')
    {'env': ['prod'], 'team': ['payments']}
    >>> parse_tags("")
    {}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import EventError, ScopeError
from ._redact import shown

if TYPE_CHECKING:
    from ._resource import Resource

__all__ = ["TagCondition", "Tags", "has_tag", "parse_tags", "show_conditions", "tag_conditions"]

Tags = dict[str, list[str]]
#: A tag scope's condition: (key, value), value None for "any value of the key".
TagCondition = tuple[str, "str | None"]


def _value_list(key: str, value: Any) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, (list, tuple)):
        return [_scalar(key, v) for v in value]
    return [_scalar(key, value)]


def _scalar(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    raise EventError(f"tag {key!r} has a value of type {type(value).__name__}; expected a string")


def parse_tags(raw: Any) -> Tags:
    """Normalise the tags of a configuration item; raises :class:`EventError` if unreadable."""
    if raw is None:
        return {}
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return {}
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EventError(f"tags are not valid JSON ({exc.msg} at position {exc.pos})") from None
        except RecursionError:
            raise EventError("tags are nested too deeply to decode") from None
    if isinstance(raw, Mapping):
        tags: Tags = {}
        for key, value in raw.items():
            tags[str(key)] = _value_list(str(key), value)
        return tags
    if isinstance(raw, list):
        tags = {}
        for item in raw:
            if not isinstance(item, Mapping):
                raise EventError(f"tag list entries must be objects, got {type(item).__name__}")
            key = item.get("TagKey", item.get("Key", item.get("key")))
            if key is None:
                raise EventError(f"tag entry {sorted(item)} has no TagKey/Key")
            value = item.get("TagValue", item.get("Value", item.get("value")))
            tags.setdefault(str(key), []).extend(_value_list(str(key), value))
        return tags
    raise EventError(f"tags must be a JSON object, got {type(raw).__name__}")


def tag_conditions(value: Any, field_name: str) -> tuple[TagCondition, ...]:
    """A tag scope (``TagsScope``, ``ExcludeTagsScope``) as (key, value) conditions: a list of
    ``{TagKey, TagValue}`` objects (or its JSON text), a mapping, or (key, value) pairs.

    Example::

        >>> tag_conditions('[{"TagKey": "env", "TagValue": "prod"}]', "TagsScope")
        (('env', 'prod'),)
    """
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise ScopeError(
                f"{field_name} must be a list of {{TagKey, TagValue}} objects (JSON), "
                f"got {shown(value)}"
            ) from None
    if isinstance(value, Mapping):
        value = [{"TagKey": k, "TagValue": v} for k, v in value.items()]
    if not isinstance(value, (list, tuple)):
        raise ScopeError(f"{field_name} must be a list of {{TagKey, TagValue}} objects")
    out: list[TagCondition] = []
    for entry in value:
        if isinstance(entry, (list, tuple)) and len(entry) == 2:
            key, tag_value = entry
        elif isinstance(entry, Mapping) and ("TagKey" in entry or "Key" in entry):
            key = entry.get("TagKey", entry.get("Key"))
            tag_value = entry.get("TagValue", entry.get("Value"))
        else:
            raise ScopeError(f"{field_name} entry {entry!r} has no TagKey")
        if not isinstance(key, str) or not key:
            raise ScopeError(f"{field_name} entry {entry!r} has an empty TagKey")
        if tag_value is not None and not isinstance(tag_value, str):
            raise ScopeError(f"{field_name} entry {entry!r}: TagValue must be a string")
        out.append((key, tag_value or None))
    return tuple(out)


def has_tag(resource: Resource, condition: TagCondition) -> bool:
    """Whether ``resource`` carries the tag key (and value, when the condition names one)."""
    key, value = condition
    values = resource.tags.get(key)
    if values is None:
        return False
    return value is None or value in values


def show_conditions(conditions: Iterable[TagCondition]) -> str:
    """Conditions as text for a message: ``env=prod, team``."""
    return ", ".join(k if v is None else f"{k}={v}" for k, v in conditions)
