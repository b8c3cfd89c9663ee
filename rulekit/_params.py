"""Typed rule parameters, coerced from the platform's all-string ``ruleParameters``.

A :class:`Params` subclass declares snake_case fields; each reads the camelCase key the platform
uses (``image_ids`` <- ``imageIds``). Platform strings are coerced: ``"a,b"`` (or a JSON array)
to a list, ``"10"`` to an int, ``"true"`` to a bool, a JSON object string to a dict; an empty
string means "not set" (the default applies, or the parameter is reported missing).

Validation is pydantic v2's, in lax mode. Because FC bills cold starts, pydantic is only imported
when it is needed: fields of plain types given ordinary values are converted by
:mod:`rulekit._param_types`, which accepts only what pydantic accepts the same way; anything else
(other types, ``Field(...)`` constraints, pydantic validators, an unusual value, an error) goes to
a pydantic model built from the class on first use. Property-based tests check the two agree.

Example::

    >>> class ImageParams(Params):
    ...     image_ids: list[str]
    ...     max_age_days: int = 30
    >>> parse_params(ImageParams, {"imageIds": "m-1, m-2", "maxAgeDays": "7"})
    ImageParams(image_ids=['m-1', 'm-2'], max_age_days=7)
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ._errors import ParamsError, RuleDefinitionError
from ._param_types import NotPlain, coerce, kind, plain, split

__all__ = ["ParamField", "Params", "parse_params"]

log = logging.getLogger("rulekit.params")

P = TypeVar("P", bound="Params")
_MISSING: Any = object()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class ParamField:
    """One declared parameter: attribute ``name``, platform ``key``, type, default."""

    name: str
    key: str
    annotation: Any
    default: Any = _MISSING
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    @property
    def kind(self) -> str:
        """How a platform string is pre-processed: 'collection', 'mapping' or 'scalar'."""
        return kind(self.annotation)


class Params:
    """Base class of a rule's parameters. Subclass it and declare typed fields.

    Instances are immutable; ``model_dump(by_alias=True)`` gives the platform keys.

    Example::

        class CpuParams(Params):
            cpu_count: int            # rule parameter "cpuCount": "4" -> 4
            instance_types: list[str] = []
    """

    __rulekit_fields__: ClassVar[dict[str, ParamField] | None] = None
    __rulekit_pydantic__: ClassVar[Any] = None

    def __init__(self, **values: Any) -> None:
        parsed = parse_params(type(self), values)
        object.__setattr__(self, "__dict__", dict(parsed.__dict__))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__rulekit_fields__ = None  # resolved on first use (annotations may be strings)
        cls.__rulekit_pydantic__ = None

    @classmethod
    def param_fields(cls) -> dict[str, ParamField]:
        """The declared fields, by attribute name. Raises RuleDefinitionError if an annotation
        cannot be resolved."""
        fields = cls.__dict__.get("__rulekit_fields__")
        if fields is not None:
            return fields  # type: ignore[no-any-return]
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except Exception as exc:
            raise RuleDefinitionError(
                f"params model {cls.__name__} cannot be built: {type(exc).__name__}: {exc}"
            ) from None
        fields = {}
        for name, annotation in hints.items():
            if name.startswith("_") or typing.get_origin(annotation) is ClassVar:
                continue
            default = getattr(cls, name, _MISSING)
            alias, description = None, ""
            if hasattr(default, "is_required") and hasattr(default, "get_default"):
                # a pydantic Field(...): its own default, alias and description
                alias, description = default.alias, default.description or ""
                default = (
                    _MISSING
                    if default.is_required()
                    else default.get_default(call_default_factory=True)
                )
            fields[name] = ParamField(name, alias or _camel(name), annotation, default, description)
        cls.__rulekit_fields__ = fields
        return fields

    @classmethod
    def needs_pydantic(cls) -> bool:
        """True when the class uses what only pydantic validates (other types, Field(...),
        validators): it is then validated by pydantic from the start."""
        return any(not plain(f.annotation) for f in cls.param_fields().values()) or any(
            type(v).__module__.startswith("pydantic") for v in vars(cls).values()
        )

    def model_dump(self, *, by_alias: bool = False) -> dict[str, Any]:
        fields = type(self).param_fields()
        return {
            (f.key if by_alias else name): self.__dict__.get(name) for name, f in fields.items()
        }

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: parameters are read-only")

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]


def _preprocess(fields: dict[str, ParamField], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Platform strings -> structured values, by field name (unknown keys are dropped)."""
    by_key = {f.key: name for name, f in fields.items()}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = by_key.get(key) or (key if key in fields else None)
        if name is None:
            continue
        if isinstance(value, str):
            text = value.strip()
            if text == "":
                continue  # the platform sends "" for an unset optional parameter
            kind = fields[name].kind
            if kind == "collection":
                value = split(text)
            elif kind == "mapping":
                with contextlib.suppress(ValueError, RecursionError):  # pydantic reports it
                    value = json.loads(text)
        out[name] = value
    return out


def _pydantic_model(cls: type[Params]) -> Any:
    built: Any = cls.__dict__.get("__rulekit_pydantic__")
    if built is not None:
        return built
    from pydantic import BaseModel, ConfigDict

    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__annotations__": {n: f.annotation for n, f in cls.param_fields().items()},
        "model_config": ConfigDict(populate_by_name=True, frozen=True, extra="ignore"),
    }
    for name, field in cls.param_fields().items():
        if field.default is not _MISSING:
            namespace[name] = field.default
    for name, value in vars(cls).items():  # Field(...)s and validators declared on the class
        if type(value).__module__.startswith("pydantic"):
            namespace[name] = value
    try:
        model: Any = type(cls.__name__, (BaseModel,), namespace)
        model.model_rebuild(raise_errors=True)  # unresolved annotations fail here, at load
    except Exception as exc:
        raise RuleDefinitionError(
            f"params model {cls.__name__} cannot be built: {type(exc).__name__}: {exc}"
        ) from None
    cls.__rulekit_pydantic__ = model
    return model


def _with_pydantic(model: type[P], values: dict[str, Any], raw: Mapping[str, Any]) -> P:
    from pydantic import ValidationError

    fields = model.param_fields()
    try:
        validated = _pydantic_model(model).model_validate(values)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            loc = tuple(error.get("loc", ()))
            first = str(loc[0]) if loc else ""
            key = fields[first].key if first in fields else (first or "(parameters)")
            key += "".join(f"[{part}]" for part in loc[1:])
            if error.get("type") == "missing":
                problems[key] = "is required but was not given"
            else:
                value = raw.get(key.split("[", 1)[0], error.get("input"))
                problems[key] = f"= {value!r}: {error.get('msg', 'invalid')}"
        detail = "; ".join(f"rule parameter {k!r} {m}" for k, m in problems.items())
        raise ParamsError(
            f"invalid rule parameters for {model.__name__}: {detail}", problems
        ) from None
    instance = object.__new__(model)
    object.__setattr__(instance, "__dict__", {n: getattr(validated, n) for n in fields})
    return instance


def check_defaults(model: type[Params]) -> None:
    """Raise RuleDefinitionError for a field whose default is not a valid value of its type
    (``enabled: bool = "nope"``): found when the rule is defined, not when the platform first
    leaves the parameter unset. Simple types are checked without importing pydantic."""
    fields = model.param_fields()
    simple = not model.needs_pydantic()
    for name, field in fields.items():
        if field.required:
            continue
        value = _preprocess({name: field}, {field.key: field.default}).get(name, field.default)
        if simple:
            try:
                coerce(field.annotation, value)
                continue
            except NotPlain:
                pass  # not a plain value: pydantic words the problem
        from pydantic import TypeAdapter, ValidationError

        try:
            TypeAdapter(field.annotation).validate_python(value)
        except ValidationError as exc:
            reason = exc.errors()[0].get("msg", "invalid") if exc.errors() else "invalid"
            raise RuleDefinitionError(
                f"params model {model.__name__}: the default of {field.key!r} ({name}) is "
                f"{field.default!r}, not a valid {_type_text(field.annotation)}: {reason}"
            ) from None
        except Exception:  # a type pydantic cannot adapt alone: the model build decides
            continue


def _type_text(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def unknown_parameters(model: type[Params], raw: Mapping[str, Any]) -> list[str]:
    """The keys of ``raw`` that ``model`` declares no field for (camelCase or snake_case)."""
    fields = model.param_fields()
    known = set(fields) | {f.key for f in fields.values()}
    return sorted(str(k) for k in raw if k not in known)


def parse_params(model: type[P], raw: Mapping[str, Any]) -> P:
    """Validate ``raw`` rule parameters into ``model``.

    Raises :class:`ParamsError` naming each bad parameter key and its value.
    """
    if not (isinstance(model, type) and issubclass(model, Params)):
        raise RuleDefinitionError(f"params must be a rulekit.Params subclass, got {model!r}")
    fields = model.param_fields()
    unknown = unknown_parameters(model, raw)
    if unknown:  # the platform may carry parameters for others: a warning, not an error
        log.warning(
            "ignoring rule parameters %s: %s declares no such field",
            ", ".join(repr(k) for k in unknown),
            model.__name__,
        )
    values = _preprocess(fields, raw)
    if not model.needs_pydantic():
        try:
            out: dict[str, Any] = {}
            for name, field in fields.items():
                if name in values:
                    out[name] = coerce(field.annotation, values[name])
                elif field.required:
                    raise NotPlain  # pydantic words the "missing" error
                else:
                    out[name] = copy.deepcopy(field.default)  # never share a mutable default
            instance = object.__new__(model)
            object.__setattr__(instance, "__dict__", out)
            return instance
        except NotPlain:
            pass
    return _with_pydantic(model, values, raw)
