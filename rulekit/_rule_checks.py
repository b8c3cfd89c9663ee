"""The checks a rule's definition passes when the decorator runs, so a mistake is a
RuleDefinitionError naming the rule and its file:line at import, never a failure on the platform.

Example::

    >>> triggers("rule 'r' (rules.py:3)", None, "One_Hour")
    (('ScheduledNotification',), 'One_Hour')
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._errors import RuleDefinitionError, RulekitError
from ._event import CHANGE_NOTIFICATION, SCHEDULED_NOTIFICATION

if TYPE_CHECKING:
    from ._params import Params

__all__ = [
    "FREQUENCIES",
    "INJECTABLE",
    "NAME_PATTERN",
    "RESOURCE_TYPE_PATTERN",
    "TRIGGERS",
    "params_model",
    "reads",
    "resource_types",
    "risk_level",
    "signature_names",
    "triggers",
]

log = logging.getLogger("rulekit.rule")

TRIGGERS = (CHANGE_NOTIFICATION, SCHEDULED_NOTIFICATION)
FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")
#: The parameter names a rule function may declare.
INJECTABLE = ("resource", "params", "ctx")
RESOURCE_TYPE_PATTERN = re.compile(r"^ACS::[A-Za-z0-9]+::[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _error(where: str, message: str) -> RuleDefinitionError:
    return RuleDefinitionError(f"{where}: {message}")


def resource_types(where: str, types: Sequence[str]) -> tuple[str, ...]:
    if isinstance(types, str):
        types = [types]
    if not types:
        raise _error(where, "declare resource_type= or resource_types=[...]")
    from ._resource_types import KNOWN_RESOURCE_TYPES, suggest

    for value in types:
        if not isinstance(value, str) or not RESOURCE_TYPE_PATTERN.match(value):
            raise _error(
                where,
                f"{value!r} is not a resource type; expected ACS::<Product>::<Type>, "
                "e.g. ACS::ECS::Instance",
            )
        if value not in KNOWN_RESOURCE_TYPES:
            likely = suggest(value)
            if likely is not None:
                raise _error(where, f"unknown resource type {value!r}; did you mean {likely!r}?")
            log.warning(
                "%s: resource type %r is not one rulekit knows; check its spelling",
                where,
                value,
            )
    return tuple(dict.fromkeys(types))


def params_model(where: str, params: Any) -> type[Params] | None:
    if params is None:
        return None
    from ._params import Params

    if not (isinstance(params, type) and issubclass(params, Params)):
        raise _error(where, f"params= must be a rulekit.Params subclass, got {params!r}")
    try:
        params.param_fields()
        from ._params import check_defaults

        check_defaults(params)
        if params.needs_pydantic():  # build it now: a broken model fails at definition
            from ._params import _pydantic_model

            _pydantic_model(params)
    except RuleDefinitionError as exc:
        raise _error(where, str(exc)) from None
    return params


def reads(where: str, reads: Any) -> tuple[str, ...] | None:
    if reads is None:
        return None
    from ._advanced_search import declared_reads

    try:
        return declared_reads(reads)
    except RulekitError as exc:
        raise _error(where, str(exc)) from None


def risk_level(where: str, level: Any) -> int:
    if isinstance(level, bool) or level not in (1, 2, 3):
        raise _error(where, f"risk_level must be 1 (high), 2 (medium) or 3 (low), got {level!r}")
    return int(level)


def triggers(
    where: str, triggers: Any, frequency: str | None
) -> tuple[tuple[str, ...], str | None]:
    if triggers is None:
        triggers = [SCHEDULED_NOTIFICATION] if frequency else [CHANGE_NOTIFICATION]
    if isinstance(triggers, str):
        triggers = [t.strip() for t in triggers.split(",") if t.strip()]
    for trigger in triggers:
        if trigger not in TRIGGERS:
            raise _error(where, f"unknown trigger {trigger!r}; expected {' or '.join(TRIGGERS)}")
    if frequency is not None and frequency not in FREQUENCIES:
        raise _error(
            where, f"unknown frequency {frequency!r}; expected one of {', '.join(FREQUENCIES)}"
        )
    if SCHEDULED_NOTIFICATION in triggers and frequency is None:
        frequency = "TwentyFour_Hours"
    return tuple(dict.fromkeys(triggers)), frequency


def signature_names(where: str, func: Callable[..., Any] | None) -> tuple[str, ...]:
    if func is None or not callable(func):
        raise _error(where, "a rule needs a function to evaluate")
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        raise _error(where, "cannot read the function's signature") from None
    wants = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise _error(
                where,
                "*args/**kwargs are not supported; name what you need: " + ", ".join(INJECTABLE),
            )
        if parameter.name not in INJECTABLE:
            if parameter.default is not parameter.empty:
                continue
            raise _error(
                where,
                f"parameter {parameter.name!r} is not something rulekit can "
                f"pass; a rule function may take {', '.join(INJECTABLE)}",
            )
        wants.append(parameter.name)
    return tuple(wants)
