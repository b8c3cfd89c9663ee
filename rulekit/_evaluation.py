"""Compliance results and their wire form for PutEvaluations.

Example::

    >>> ev = Evaluation(resource_id="i-1", resource_type="ACS::ECS::Instance",
    ...                 compliance="NON_COMPLIANT", annotation="image m-9 is not approved")
    >>> ev.compliance is Compliance.NON_COMPLIANT
    True
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from ._errors import EvaluationError
from ._redact import shown

if TYPE_CHECKING:
    from ._resource import Resource

__all__ = [
    "MAX_ANNOTATION_LENGTH",
    "Compliance",
    "Evaluation",
    "complete",
    "encode_evaluations",
    "for_resource",
    "format_annotation",
    "normalise",
    "unencodable",
    "utf8_text",
]

#: The platform documents no maximum for an annotation; rulekit bounds it so a rule that
#: annotates with a whole configuration cannot make PutEvaluations fail (docs/authoring.md).
MAX_ANNOTATION_LENGTH = 1024
_ELLIPSIS = "…"


class Compliance(str, Enum):
    """The compliance types Cloud Config accepts (``complianceType``)."""

    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def coerce(cls, value: Compliance | str) -> Compliance:
        """Accept a member or its name, case-insensitively; anything else is an error."""
        if isinstance(value, Compliance):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().upper())
            except ValueError:
                pass
        allowed = ", ".join(m.value for m in cls)
        raise EvaluationError(f"{value!r} is not a compliance type; expected one of {allowed}")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One compliance result for one resource.

    ``annotation`` is free text or a mapping (serialised as the platform's annotation JSON, e.g.
    ``{"configuration": ..., "desiredValue": ..., "operator": ..., "property": ...}``).
    Region and account default to those of the resource that triggered the rule.
    """

    resource_id: str
    resource_type: str
    compliance: Compliance
    annotation: str | dict[str, Any] | None = None
    region_id: str | None = None
    account_id: str | int | None = None
    resource_name: str | None = None
    ordering_timestamp: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compliance", Compliance.coerce(self.compliance))
        if not isinstance(self.resource_id, str) or not self.resource_id:
            raise EvaluationError(
                f"Evaluation needs a resource_id string, got {self.resource_id!r}"
            )
        if not isinstance(self.resource_type, str) or not self.resource_type:
            raise EvaluationError(
                f"Evaluation for {self.resource_id} needs a resource_type, "
                f"got {self.resource_type!r}"
            )
        if self.annotation is not None and not isinstance(self.annotation, (str, dict)):
            raise _bad_annotation(self.resource_id, self.annotation)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies the evaluated resource: (account, region, type, id)."""
        return (
            str(self.account_id or ""),
            self.region_id or "",
            self.resource_type,
            self.resource_id,
        )

    def to_wire(self) -> dict[str, Any]:
        """The lowerCamel object PutEvaluations expects inside ``Evaluations``."""
        if self.region_id is None or self.account_id is None or self.ordering_timestamp is None:
            raise EvaluationError(
                f"evaluation of {self.resource_type} {self.resource_id} lacks region, account or "
                "ordering timestamp; the dispatcher fills these before delivery"
            )
        wire: dict[str, Any] = {
            "accountId": _account(self.account_id),
            "complianceResourceId": self.resource_id,
            "complianceResourceType": self.resource_type,
            "complianceRegionId": self.region_id,
            "complianceType": self.compliance.value,
            "orderingTimestamp": self.ordering_timestamp,
        }
        # Free text: a lone surrogate (valid JSON, so possible in any name or configuration
        # value the platform returns) would make the whole batch unencodable.
        if self.resource_name:
            wire["complianceResourceName"] = utf8_text(self.resource_name)
        if self.annotation is not None:
            wire["annotation"] = utf8_text(format_annotation(self.annotation))
        return wire


_SURROGATE = re.compile("[\ud800-\udfff]")
_IDENTITY = ("complianceResourceId", "complianceResourceType", "complianceRegionId", "accountId")


def utf8_text(text: str) -> str:
    """``text`` with every code point UTF-8 cannot carry (a surrogate) replaced by U+FFFD.

    Example::

        >>> utf8_text("caf\\u00e9 \\ud83d")
        'café \\ufffd'
    """
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def unencodable(wire: Mapping[str, Any]) -> str | None:
    """The identity field of a wire evaluation that UTF-8 cannot carry, or None. Unlike free
    text it cannot be replaced: the evaluation would then be about another resource.

    Example::

        >>> unencodable({"complianceResourceId": "i-\\ud83d", "complianceResourceType": "T",
        ...              "complianceRegionId": "cn-hangzhou", "accountId": 1})
        'complianceResourceId'
    """
    for key in _IDENTITY:
        value = wire.get(key)
        if value.__class__ is str and not value.isascii() and _SURROGATE.search(value):
            return key
    return None


def _bad_annotation(resource_id: str, annotation: object) -> EvaluationError:
    return EvaluationError(
        f"annotation for {resource_id} must be a str or a dict, got {type(annotation).__name__}"
    )


def for_resource(
    resource: Resource,
    compliance: Compliance | str,
    annotation: str | dict[str, Any] | None = None,
    ordering: int | None = None,
) -> Evaluation:
    """An Evaluation of ``resource`` itself, with its region, account and name: what a rule's
    bare ``Compliance`` return becomes, and the framework's own verdicts (out of scope, deleted,
    scope undecided, configuration unavailable).

    Example::

        >>> from rulekit import Resource
        >>> r = Resource(id="i-1", type="ACS::ECS::Instance", region="cn-hangzhou",
        ...              account_id="1234")
        >>> for_resource(r, "NOT_APPLICABLE", "resource deleted", 1700000000000).to_wire()[
        ...     "complianceType"]
        'NOT_APPLICABLE'
    """
    return Evaluation(
        resource_id=resource.id,
        resource_type=resource.type,
        compliance=compliance,  # type: ignore[arg-type]  # (coerced by __post_init__)
        annotation=annotation,
        region_id=resource.region,
        account_id=resource.account_id,
        resource_name=resource.name,
        ordering_timestamp=ordering,
    )


def complete(evaluation: Evaluation, resource: Resource, ordering: int | None) -> Evaluation:
    """Fill what a rule may leave out: region and account (the resource's) and the ordering
    timestamp (the event's). An evaluation that already has them all is returned as is.

    Example::

        >>> from rulekit import Resource
        >>> r = Resource(id="i-1", type="ACS::ECS::Instance", region="cn-hangzhou",
        ...              account_id="1234")
        >>> ev = complete(Evaluation("i-1", "ACS::ECS::Instance", "COMPLIANT"), r, 1700000000000)
        >>> ev.region_id, ev.account_id, ev.ordering_timestamp
        ('cn-hangzhou', '1234', 1700000000000)
        >>> complete(ev, r, 1700000000000) is ev
        True
    """
    same = evaluation.resource_id == resource.id and evaluation.resource_type == resource.type
    region = evaluation.region_id or resource.region
    account = evaluation.account_id or resource.account_id
    name = evaluation.resource_name or (resource.name if same else None)
    if (
        evaluation.ordering_timestamp == ordering
        and region is evaluation.region_id
        and account is evaluation.account_id
        and name is evaluation.resource_name
    ):
        return evaluation
    return replace(
        evaluation,
        region_id=region,
        account_id=account,
        ordering_timestamp=ordering,
        resource_name=name,
    )


def _account(value: str | int) -> int | str:
    # The platform's account ids are numbers (long); keep non-numeric ids as given.
    if isinstance(value, int):
        return value
    # (isdigit alone also takes "²" and other digits int() refuses)
    return int(value) if value.isascii() and value.isdigit() else value


# Built once: json.dumps with options builds a new encoder on every call.
_ANNOTATION_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str
)
_dumps = _ANNOTATION_ENCODER.encode


def encode_evaluations(wire: Sequence[dict[str, Any]]) -> str:
    """The ``Evaluations`` parameter of PutEvaluations: a JSON array string (never a repr).

    Example::

        >>> encode_evaluations([{"complianceType": "COMPLIANT"}])
        '[{"complianceType":"COMPLIANT"}]'
    """
    return json.dumps(list(wire), ensure_ascii=False, separators=(",", ":"))


def format_annotation(annotation: str | dict[str, Any], limit: int = MAX_ANNOTATION_LENGTH) -> str:
    """Serialise an annotation and bound it to ``limit`` characters.

    A dict stays valid JSON: its longest values are shortened (ending in "…") until it fits.

    Example::

        >>> format_annotation({"property": "$.ImageId", "operator": "In"})
        '{"operator":"In","property":"$.ImageId"}'
    """
    if isinstance(annotation, str):
        if len(annotation) <= limit:
            return annotation
        return annotation[: limit - 1] + _ELLIPSIS
    text = _dumps(annotation)
    if len(text) <= limit:
        return text
    values = {str(k): v if isinstance(v, str) else _dumps(v) for k, v in annotation.items()}
    while True:
        text = _dumps(values)
        over = len(text) - limit
        if over <= 0:
            return text
        longest = max(values, key=lambda k: len(values[k]))
        value = values[longest]
        if len(value) <= 8:  # only the keys are long: give up on JSON rather than exceed
            return text[: limit - 1] + _ELLIPSIS
        values[longest] = value[: max(8, len(value) - over - 1)] + _ELLIPSIS


def _one(item: Any, resource: Resource, ordering: int | None) -> Evaluation:
    if isinstance(item, (Compliance, str)):
        compliance, annotation = Compliance.coerce(item), None
    elif isinstance(item, Evaluation):
        return complete(item, resource, ordering)
    elif isinstance(item, tuple) and len(item) == 2:
        compliance, annotation = Compliance.coerce(item[0]), item[1]
    else:
        raise EvaluationError(
            f"returned {type(item).__name__} {shown(item)}; return a Compliance, a "
            "(Compliance, annotation) pair, an Evaluation, or several Evaluations"
        )
    return for_resource(resource, compliance, annotation, ordering)


def normalise(result: Any, resource: Resource, ordering: int | None) -> list[Evaluation]:
    """What a rule function returned, as evaluations of ``resource``: a Compliance (or its
    name), a (Compliance, annotation) pair, an Evaluation, or an iterable of these.

    Example::

        >>> from rulekit import Resource
        >>> r = Resource(id="i-1", type="ACS::ECS::Instance", region="cn-hangzhou",
        ...              account_id="1234")
        >>> [e.compliance.value for e in normalise(("NON_COMPLIANT", "no"), r, 1)]
        ['NON_COMPLIANT']
    """
    if result is None:
        raise EvaluationError("returned None; return a Compliance (e.g. Compliance.COMPLIANT)")
    if isinstance(result, (str, Evaluation, tuple)):
        return [_one(result, resource, ordering)]
    if isinstance(result, Iterable):
        return [_one(item, resource, ordering) for item in result]
    return [_one(result, resource, ordering)]
