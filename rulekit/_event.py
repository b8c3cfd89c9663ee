"""Decode the event Cloud Config passes to a custom rule's FC function.

FC hands the event over as bytes. Its shape (docs/events.md): ``orderingTimestamp``,
``invokingEvent`` (an object), ``ruleParameters`` (flat, string values), ``resultToken``; the
configuration item inside carries ``configuration`` and ``tags`` as JSON *strings*. Unknown keys
are ignored; anything malformed raises :class:`EventError` before a rule runs or anything is sent.

Example::

    >>> ev = decode_event(b'{"resultToken": "t0ken-123", "invokingEvent": '
    ...     b'{"messageType": "ScheduledNotification"}}')
    >>> ev.message_type, ev.resource
    ('ScheduledNotification', None)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _redact
from ._errors import EventError
from ._redact import shown
from ._resource import Resource, recorded_resource_group

__all__ = [
    "CHANGE_NOTIFICATION",
    "CONTINUATION_KEY",
    "MESSAGE_TYPES",
    "SCHEDULED_NOTIFICATION",
    "ConfigEvent",
    "decode_event",
    "parse_configuration",
]

log = logging.getLogger("rulekit.event")

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1

CHANGE_NOTIFICATION = "ConfigurationItemChangeNotification"
SCHEDULED_NOTIFICATION = "ScheduledNotification"
MESSAGE_TYPES = (CHANGE_NOTIFICATION, SCHEDULED_NOTIFICATION)
#: The member of a chained sweep's continuation event (rulekit/_continuation.py); Cloud Config's
#: events never carry it.
CONTINUATION_KEY = "rulekitContinuation"


@dataclass(slots=True)
class ConfigEvent:
    """A decoded invocation. ``resource`` is None for a periodic event without a configuration
    item; ``oversize`` means its configuration was left out and must be fetched."""

    message_type: str
    ordering_timestamp: int
    result_token: str = field(repr=False)
    rule_parameters: dict[str, Any]
    account_id: str | None
    resource: Resource | None
    configuration_type: str = "COMMON"
    rule_name: str | None = None
    rule_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def oversize(self) -> bool:
        """True when Cloud Config left the configuration out (over ~100 KB)."""
        return self.configuration_type == "OVERSIZE"

    @property
    def periodic(self) -> bool:
        return self.message_type == SCHEDULED_NOTIFICATION

    @property
    def continuation(self) -> bool:
        """True for a chained sweep's hand-over to this function, not Cloud Config's event."""
        return CONTINUATION_KEY in self.raw


def _load_json(value: Any, what: str, where: str | None = None) -> Any:
    if isinstance(value, (bytes, bytearray)):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            what = f"{what} of {where}" if where else what
            raise EventError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    elif not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        what = f"{what} of {where}" if where else what
        if isinstance(exc, json.JSONDecodeError):
            detail = f"{exc.msg}: line {exc.lineno} column {exc.colno}"
        else:
            detail = str(exc)
        raise EventError(f"{what} is not valid JSON: {detail}") from None
    except RecursionError:  # hostile input: JSON nested deeper than the interpreter recurses
        what = f"{what} of {where}" if where else what
        raise EventError(f"{what} is nested too deeply to decode") from None


def _object(value: Any, what: str, *, required: bool) -> dict[str, Any] | None:
    """``value`` (JSON text, bytes or already decoded) checked to be a JSON object; None when
    absent or empty and allowed to be."""
    value = _load_json(value, what)
    if value is None or value == "" or value == {}:
        if required:
            raise EventError(f"the event has no {what}")
        return None
    if not isinstance(value, Mapping):
        raise EventError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value if isinstance(value, dict) else dict(value)


def _int(value: Any, what: str, where: str | None = None) -> int | None:
    if value is None or value == "":
        return None
    what = f"{what} of {where}" if where else what
    if isinstance(value, bool):
        raise EventError(f"{what} must be a number, got {value!r}")
    try:
        number = int(value)  # (Infinity and 1e400, valid to a JSON parser, overflow here)
    except (TypeError, ValueError, OverflowError):
        raise EventError(
            f"{what} must be a number of milliseconds, got {shown(value, 40)}"
        ) from None
    if not _LONG_MIN <= number <= _LONG_MAX:  # the platform's timestamps are Java longs
        raise EventError(f"{what} is out of range for a timestamp: {shown(value, 40)}")
    return number


def _utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EventError(
            f"{what} holds a lone surrogate (character {exc.start}): "
            "it cannot be sent back to Cloud Config"
        ) from None


def _text(value: Any) -> str | None:
    """A text field: empty reads as absent, numbers (accountId) as text."""
    return None if value is None else (str(value) or None)


def parse_configuration(raw: Any, where: str) -> dict[str, Any]:
    """Parse a configuration (a JSON string, a mapping, or empty) into a dict.

    ``where`` names the resource in the error message.
    """
    if raw is None or raw == "":
        return {}
    parsed = _load_json(raw, "the configuration", where)
    if not isinstance(parsed, Mapping):
        raise EventError(
            f"the configuration of {where} must be a JSON object, got {type(parsed).__name__}"
        )
    return dict(parsed)


# The configuration item's text fields, in the order _resource unpacks them.
_ITEM_TEXTS = (
    "resourceId",
    "resourceType",
    "regionId",
    "accountId",
    "resourceName",
    "resourceGroupId",
    "resourceStatus",
    "arn",
    "availabilityZone",
)


def _resource(item: Mapping[str, Any], account_id: str | None, oversize: bool) -> Resource:
    resource_id, resource_type, region, account, name, group, status, arn, zone = (
        _text(item.get(key)) for key in _ITEM_TEXTS
    )
    if resource_id is None or resource_type is None:
        missing = "resourceId" if resource_id is None else "resourceType"
        raise EventError(f"configurationItem has no {missing}")
    where = f"{resource_type} {resource_id}"
    if region is None:
        raise EventError(f"configurationItem of {where} has no regionId")
    account = account or account_id
    if account is None:
        raise EventError(f"configurationItem of {where} has no accountId")
    configuration = {} if oversize else parse_configuration(item.get("configuration"), where)
    capture = item.get("captureTime")
    creation = item.get("resourceCreationTime", item.get("resourceCreateTime"))
    return Resource(
        id=resource_id,
        type=resource_type,
        region=region,
        account_id=account,
        configuration=configuration,
        name=name,
        # An event without resourceGroupId leaves it to the configuration, else unknown (None).
        resource_group_id=group or recorded_resource_group(configuration),
        status=status,
        raw_tags=item.get("tags"),
        arn=arn,
        availability_zone=zone,
        capture_time=None if capture is None else _int(capture, "captureTime", where),
        creation_time=None if creation is None else _int(creation, "resourceCreationTime", where),
        raw_configuration_diff=item.get("configurationDiff"),
    )


def decode_event(event: bytes | str | Mapping[str, Any]) -> ConfigEvent:
    """Decode a Cloud Config event given as bytes, str or a mapping."""
    body = _object(event, "event", required=True)
    assert body is not None
    token = body.get("resultToken")
    if not isinstance(token, str) or not token or token.isspace():
        raise EventError("the event has no resultToken: Cloud Config could not accept results")
    _redact.register_secret(token, transient=True)
    if not token.isascii():  # sent back as is: text UTF-8 cannot carry (a lone surrogate)
        _utf8(token, "resultToken")
    invoking = _object(body.get("invokingEvent"), "invokingEvent", required=True)
    assert invoking is not None
    item = _object(
        invoking.get("configurationItem"), "invokingEvent.configurationItem", required=False
    )
    message_type = _text(invoking.get("messageType"))
    configuration_type = _text(invoking.get("configurationType")) or "COMMON"
    account_id = _text(invoking.get("accountId"))  # a number in the platform's events
    if message_type is None:
        message_type = CHANGE_NOTIFICATION if item else SCHEDULED_NOTIFICATION
        log.warning("invokingEvent has no messageType; treating it as %s", message_type)
    elif message_type not in MESSAGE_TYPES:
        raise EventError(
            f"unknown invokingEvent.messageType {message_type!r}; "
            f"expected one of {', '.join(MESSAGE_TYPES)}"
        )
    configuration_type = configuration_type.upper()
    if configuration_type not in ("COMMON", "OVERSIZE", "NONE"):
        raise EventError(f"unknown invokingEvent.configurationType {configuration_type!r}")
    if message_type == CHANGE_NOTIFICATION and item is None:
        raise EventError("a ConfigurationItemChangeNotification must carry a configurationItem")
    resource = _resource(item, account_id, configuration_type == "OVERSIZE") if item else None
    ordering = (
        _int(body.get("orderingTimestamp"), "orderingTimestamp")
        or _int(invoking.get("notificationCreationTimestamp"), "notificationCreationTimestamp")
        or (resource.capture_time if resource else None)
        or int(time.time() * 1000)
    )
    rule_name = body.get("configRuleName") or body.get("ruleName") or body.get("ConfigRuleName")
    return ConfigEvent(
        message_type=message_type,
        ordering_timestamp=ordering,
        result_token=token,
        rule_parameters=_object(body.get("ruleParameters"), "ruleParameters", required=False) or {},
        account_id=account_id or (resource.account_id if resource else None),
        resource=resource,
        configuration_type=configuration_type,
        rule_name=_text(rule_name or None),
        rule_id=_text(body.get("configRuleId") or None),
        raw=body,
    )
