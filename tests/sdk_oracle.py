"""The official generated SDK models as a test-only oracle for the platform's API shapes.

rulekit's emulator and its requests encode the team's reading of the platform; these checks hold
both against models nobody on the team wrote (``alibabacloud-config20200907``,
``alibabacloud-resourcemanager20200331``, ``alibabacloud-sts20150401``,
``alibabacloud-ram20150501``). What a model defines is read from the model itself:

- its fields and their Python types from ``__init__``'s annotations;
- each field's wire name by setting that field alone and reading ``to_map()``;
- which fields are required from the generator's "This parameter is required." comment (the
  same text the API reference shows), which the models carry but never enforce.

Never imported by rulekit itself: the SDKs are test dependencies only.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import re
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

#: Product (as rulekit names it) -> the generated SDK's models module.
MODELS = {
    "config": "alibabacloud_config20200907.models",
    "resourcemanager": "alibabacloud_resourcemanager20200331.models",
    "sts": "alibabacloud_sts20150401.models",
    "ram": "alibabacloud_ram20150501.models",
}

#: RPC common parameters: signed and sent with every request, not part of any action's model.
COMMON_PARAMETERS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "SecurityToken",
        "RegionId",
    }
)


@dataclass(frozen=True)
class Field:
    attribute: str
    wire: str
    annotation: Any
    required: bool


def model(product: str, name: str) -> type[Any]:
    """The generated model class ``name`` (e.g. ``ListDiscoveredResourcesRequest``)."""
    module = importlib.import_module(MODELS[product])
    cls: type[Any] = getattr(module, name)
    return cls


_REQUIRED = re.compile(r"#\s*This parameter is required\.\s*\n\s*self\.(\w+)\s*=")


@cache
def fields(cls: type[Any]) -> dict[str, Field]:
    """The model's fields by wire name."""
    module = inspect.getmodule(cls)
    hints = typing.get_type_hints(cls.__init__, vars(module))
    source = inspect.getsource(cls.__init__)
    required = set(_REQUIRED.findall(source))
    empty = cls().to_map()
    out: dict[str, Field] = {}
    for attribute, annotation in hints.items():
        if attribute == "return":
            continue
        probe = cls()
        setattr(probe, attribute, _probe_value(annotation))
        changed = [k for k, v in probe.to_map().items() if empty.get(k, _MISSING) != v]
        assert len(changed) == 1, f"{cls.__name__}.{attribute}: wire name not found ({changed})"
        out[changed[0]] = Field(attribute, changed[0], annotation, attribute in required)
    return out


_MISSING = object()


def _probe_value(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (list, typing.List):  # noqa: UP006 - the models spell it typing.List
        (item,) = typing.get_args(annotation)
        return [_probe_value(item)]
    if origin in (dict, typing.Dict):  # noqa: UP006
        return {"probe": "probe"}
    if inspect.isclass(annotation) and hasattr(annotation, "to_map"):
        return annotation()
    return "probe-value"


def request_problems(product: str, action: str, params: dict[str, str]) -> list[str]:
    """What is wrong with a request rulekit sent (its own parameters, as received on the wire):
    names the official ``<Action>Request`` model lacks, values not of the model's type, and
    required parameters left out."""
    cls = model(product, f"{action}Request")
    known = fields(cls)
    problems = []
    for name, value in params.items():
        if name in COMMON_PARAMETERS:
            continue
        spec = known.get(name)
        if spec is None:
            problems.append(f"{action}: parameter {name!r} is not in {cls.__name__}")
            continue
        if not _wire_value_fits(value, spec.annotation):
            problems.append(
                f"{action}: {name}={value!r:.60} is not a wire form of {spec.annotation!r}"
            )
    for name, spec in known.items():
        if spec.required and name not in params:
            problems.append(f"{action}: required parameter {name!r} was not sent")
    return problems


def _wire_value_fits(value: str, annotation: Any) -> bool:
    """RPC requests carry every value as text: ints as decimal digits, booleans as true/false."""
    if annotation is bool:
        return value in ("true", "false")
    if annotation is int:
        return re.fullmatch(r"-?[0-9]+", value) is not None
    if annotation is float:
        try:
            float(value)
        except ValueError:
            return False
        return True
    return annotation is str or annotation is Any


def response_problems(product: str, action: str, body: dict[str, Any]) -> list[str]:
    """What is wrong with a response body (as the client parsed it): it must survive the official
    ``<Action>ResponseBody`` model's ``from_map(...).to_map()`` unchanged (no field the model
    lacks), every value must have the model's type, and no field the model requires is missing."""
    cls = model(product, f"{action}ResponseBody")
    problems = []
    round_trip = cls().from_map(copy.deepcopy(body)).to_map()
    if round_trip != body:
        problems.extend(f"{action}: {d}" for d in _differences(body, round_trip, "$"))
    problems.extend(f"{action}: {p}" for p in _type_problems(cls, body, "$"))
    return problems


def _differences(sent: Any, kept: Any, where: str) -> list[str]:
    if isinstance(sent, dict) and isinstance(kept, dict):
        out = [f"{where}.{k} is not in the official model" for k in sent.keys() - kept.keys()]
        out += [f"{where}.{k} appears only after the round trip" for k in kept.keys() - sent]
        for key in sent.keys() & kept.keys():
            out += _differences(sent[key], kept[key], f"{where}.{key}")
        return out
    if isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        out = []
        for index, (a, b) in enumerate(zip(sent, kept, strict=True)):
            out += _differences(a, b, f"{where}[{index}]")
        return out
    return [] if sent == kept else [f"{where} changed from {sent!r:.60} to {kept!r:.60}"]


def _type_problems(cls: type[Any], body: Any, where: str) -> list[str]:
    if not isinstance(body, dict):
        return [f"{where} is {type(body).__name__}, the model {cls.__name__} is an object"]
    out = []
    known = fields(cls)
    for name, spec in known.items():
        if name not in body:
            if spec.required:
                out.append(f"{where}.{name} is required by {cls.__name__} and missing")
            continue
        out += _value_problems(body[name], spec.annotation, f"{where}.{name}")
    return out


def _value_problems(value: Any, annotation: Any, where: str) -> list[str]:
    if value is None:
        return []
    origin = typing.get_origin(annotation)
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{where} is {type(value).__name__}, expected a list"]
        (item,) = typing.get_args(annotation)
        out = []
        for index, entry in enumerate(value):
            out += _value_problems(entry, item, f"{where}[{index}]")
        return out
    if origin in (dict, typing.Dict):  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{where} is not an object"]
    if inspect.isclass(annotation) and hasattr(annotation, "to_map"):
        return _type_problems(annotation, value, where)
    expected: tuple[type, ...] = {
        str: (str,),
        int: (int,),
        bool: (bool,),
        float: (int, float),
    }.get(annotation, (object,))
    ok = isinstance(value, expected) and not (annotation is int and isinstance(value, bool))
    return [] if ok else [f"{where}={value!r:.40} is {type(value).__name__}, not {annotation}"]
