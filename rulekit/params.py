"""Typed rule parameters, coerced from the platform's all-string ``ruleParameters``.

A :class:`Params` subclass declares snake_case fields; each reads the camelCase key the platform
uses (``image_ids`` <- ``imageIds``). Platform strings are coerced: ``"a,b"`` (or a JSON array)
to a list, ``"10"`` to an int, ``"true"`` to a bool, a JSON object string to a dict; an empty
string means "not set" (the default applies, or the parameter is reported missing).

Example::

    >>> class ImageParams(Params):
    ...     image_ids: list[str]
    ...     max_age_days: int = 30
    >>> parse_params(ImageParams, {"imageIds": "m-1, m-2", "maxAgeDays": "7"})
    ImageParams(image_ids=['m-1', 'm-2'], max_age_days=7)
"""

from __future__ import annotations

import json
import logging
import types
import typing
from collections import abc
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from .errors import ParamsError, RuleDefinitionError

__all__ = ["Params", "parse_params"]

log = logging.getLogger("rulekit.params")

P = TypeVar("P", bound="Params")

_COLLECTIONS = (list, set, frozenset, tuple)


def _kind(annotation: Any) -> str:
    """'collection', 'mapping' or 'scalar' for a field's annotation (through Optional/Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        for kind in ("collection", "mapping"):
            if kind in kinds:
                return kind
        return "scalar"
    target = origin or annotation
    if isinstance(target, type):
        if issubclass(target, _COLLECTIONS) and not issubclass(target, (str, bytes)):
            return "collection"
        if issubclass(target, Mapping) or target is dict:
            return "mapping"
    if target in (abc.Sequence, abc.Set, abc.MutableSequence, abc.Iterable):
        return "collection"
    if target in (abc.Mapping, abc.MutableMapping):
        return "mapping"
    return "scalar"


def _split(text: str) -> Any:
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            pass  # not JSON after all: fall back to comma splitting
    return [part.strip() for part in text.split(",") if part.strip()]


class Params(BaseModel):
    """Base class of a rule's parameters. Subclass it and declare typed fields.

    Example::

        class CpuParams(Params):
            cpu_count: int            # rule parameter "cpuCount": "4" -> 4
            instance_types: list[str] = []
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_platform_strings(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        by_key: dict[str, str] = {}
        for name, info in cls.model_fields.items():
            by_key[name] = name
            if info.alias:
                by_key[info.alias] = name
        out: dict[str, Any] = {}
        for key, value in data.items():
            field_name = by_key.get(key)
            if field_name is None or not isinstance(value, str):
                out[key] = value
                continue
            text = value.strip()
            if text == "":
                continue  # the platform sends "" for an unset optional parameter
            kind = _kind(cls.model_fields[field_name].annotation)
            if kind == "collection":
                out[key] = _split(text)
            elif kind == "mapping":
                try:
                    out[key] = json.loads(text)
                except ValueError:
                    out[key] = value  # let validation report it with the key and value
            else:
                out[key] = text
        return out


def _key(model: type[Params], loc: tuple[Any, ...]) -> str:
    if not loc:
        return "(parameters)"
    first = str(loc[0])
    info = model.model_fields.get(first)
    name = info.alias if info is not None and info.alias else first
    rest = "".join(f"[{part}]" for part in loc[1:])
    return f"{name}{rest}"


def parse_params(model: type[P], raw: Mapping[str, Any]) -> P:
    """Validate ``raw`` rule parameters into ``model``.

    Raises :class:`ParamsError` naming each bad parameter key and its value.
    """
    if not (isinstance(model, type) and issubclass(model, Params)):
        raise RuleDefinitionError(f"params must be a rulekit.Params subclass, got {model!r}")
    try:
        parsed = model.model_validate(dict(raw))
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            key = _key(model, tuple(error.get("loc", ())))
            if error.get("type") == "missing":
                problems[key] = "is required but was not given"
            else:
                value = raw.get(key.split("[", 1)[0], error.get("input"))
                problems[key] = f"= {value!r}: {error.get('msg', 'invalid')}"
        detail = "; ".join(f"rule parameter {k!r} {m}" for k, m in problems.items())
        raise ParamsError(
            f"invalid rule parameters for {model.__name__}: {detail}", problems
        ) from None
    known = set()
    for name, info in model.model_fields.items():
        known.add(name)
        if info.alias:
            known.add(info.alias)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        log.warning(
            "ignoring rule parameters %s: %s declares no such field",
            ", ".join(repr(k) for k in unknown),
            model.__name__,
        )
    return parsed
