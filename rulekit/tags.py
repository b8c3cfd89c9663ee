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
from collections.abc import Mapping
from typing import Any

from .errors import EventError

__all__ = ["Tags", "parse_tags"]

Tags = dict[str, list[str]]


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
