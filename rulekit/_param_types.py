"""How a platform rule parameter becomes a value of its declared type.

The platform sends every rule parameter as text. Plain types (str, int, float, bool, and
lists/sets/tuples and dicts of them, optional or not) are converted here, accepting only what
pydantic's lax mode accepts the same way, so a rule with plain parameters never imports pydantic
(FC bills its import on every cold start). Anything else raises :class:`NotPlain` and pydantic
decides; property-based tests check the two agree.

Example::

    >>> coerce(list[int], ["1", " 2"])
    [1, 2]
    >>> kind(dict[str, int])
    'mapping'
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections import abc
from typing import Any

__all__ = ["NotPlain", "coerce", "kind", "plain", "split", "unwrap"]

_INT = re.compile(r"^\s*[+-]?[0-9]+\s*$")
_FLOAT = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")
_BOOLS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "on": True,
    "off": False,
    "t": True,
    "f": False,
    "y": True,
    "n": False,
}
_SCALARS = (str, int, float, bool)
_SEQUENCES = (list, set, frozenset, tuple)


class NotPlain(Exception):
    """This value or type is not one that :func:`coerce` converts exactly as pydantic would:
    pydantic decides."""


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """(annotation without Optional, whether None is allowed)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(annotation)):
            return args[0], True
    return annotation, False


def plain(annotation: Any) -> bool:
    """Whether :func:`coerce` converts values of this annotation (else pydantic does)."""
    inner, _ = unwrap(annotation)
    if inner in _SCALARS:
        return True
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if origin in _SEQUENCES:
        if origin is tuple:
            return len(args) == 2 and args[1] is Ellipsis and args[0] in _SCALARS
        return len(args) == 1 and args[0] in _SCALARS
    if origin is dict:
        return len(args) == 2 and args[0] is str and args[1] in _SCALARS
    return False


def kind(annotation: Any) -> str:
    """'collection', 'mapping' or 'scalar' (through Optional/Annotated): how a platform string
    is pre-processed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return next((k for k in ("collection", "mapping") if k in kinds), "scalar")
    target = origin or annotation
    if target in (abc.Sequence, abc.Set, abc.MutableSequence, abc.Iterable) or (
        isinstance(target, type)
        and issubclass(target, _SEQUENCES)
        and not issubclass(target, (str, bytes))
    ):
        return "collection"
    if target in (abc.Mapping, abc.MutableMapping, dict):
        return "mapping"
    return "scalar"


def _scalar(kind: type, value: Any) -> Any:
    if kind is str:
        if isinstance(value, str):
            return value
    elif kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _BOOLS:
            return _BOOLS[value.lower()]
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.match(value):
            return int(value)
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _FLOAT.match(value):
            return float(value)
    raise NotPlain


def coerce(annotation: Any, value: Any) -> Any:
    inner, optional = unwrap(annotation)
    if value is None:
        if optional:
            return None
        raise NotPlain
    if inner in _SCALARS:
        return _scalar(inner, value)
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if origin in _SEQUENCES:
        if not isinstance(value, (list, tuple)):
            raise NotPlain
        items = [_scalar(args[0], item) for item in value]
        return origin(items) if origin is not list else items
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise NotPlain
        return {k: _scalar(args[1], v) for k, v in value.items()}
    raise NotPlain


def split(text: str) -> Any:
    if text.startswith("["):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass  # not JSON after all: fall back to comma splitting
    return [part.strip() for part in text.split(",") if part.strip()]
