"""The resource a rule evaluates: one configuration item, with JSONPath access to its configuration.

Example::

    >>> r = Resource(id="i-1", type="ACS::ECS::Instance", region="cn-hangzhou",
    ...              account_id="1234", configuration={"ImageId": "m-1"})
    >>> r["$.ImageId"]
    'm-1'
    >>> r.get("$.VpcAttributes.VpcId", "none")
    'none'
"""

from __future__ import annotations

import logging
from typing import Any

from ._errors import EventError
from ._paths import PathError, compile_path
from ._tags import Tags, parse_tags

__all__ = ["Resource"]

log = logging.getLogger("rulekit.event")
_LAZY = ("configuration_diff", "tags")  # parsed from the event's JSON strings on first read


class Resource:
    """A configuration item. ``tags`` maps each key to its list of values; ``configuration`` is the
    parsed configuration dict (fetched with GetDiscoveredResource when the event was OVERSIZE).

    ``raw_tags`` takes tags as the platform sends them (a JSON string, or a list of
    ``{TagKey, TagValue}``); they are parsed when first read (by a tag scope or the rule), so an
    event whose tags nothing reads does not pay for them. Unreadable tags raise
    :class:`~rulekit._errors.EventError` naming the resource at that read, before any evaluation
    of the resource exists. ``raw_configuration_diff`` likewise takes the event's
    ``configurationDiff`` string; the diff is advisory, so an unreadable one is logged and read as
    empty.
    """

    #: Every attribute, as __init__ takes it (copies and equality go through these).
    FIELDS = (
        "account_id",
        "arn",
        "availability_zone",
        "capture_time",
        "configuration",
        "configuration_diff",
        "creation_time",
        "id",
        "name",
        "region",
        "resource_group_id",
        "status",
        "tags",
        "type",
    )
    __slots__ = (
        "_diff",
        "_raw_diff",
        "_raw_tags",
        "_tags",
        *(name for name in FIELDS if name not in _LAZY),
    )

    def __init__(
        self,
        *,
        id: str,
        type: str,
        region: str,
        account_id: str,
        configuration: dict[str, Any] | None = None,
        name: str | None = None,
        resource_group_id: str | None = None,
        status: str | None = None,
        tags: Tags | None = None,
        arn: str | None = None,
        availability_zone: str | None = None,
        capture_time: int | None = None,
        creation_time: int | None = None,
        configuration_diff: dict[str, Any] | None = None,
        raw_tags: Any = None,
        raw_configuration_diff: Any = None,
    ) -> None:
        self.id = id
        self.type = type
        self.region = region
        self.account_id = account_id
        self.configuration: dict[str, Any] = configuration if configuration is not None else {}
        self.name = name
        self.resource_group_id = resource_group_id
        self.status = status
        self._tags: Tags | None = tags if tags is not None or raw_tags else {}
        self._raw_tags = raw_tags
        self.arn = arn
        self.availability_zone = availability_zone
        self.capture_time = capture_time
        self.creation_time = creation_time
        self._diff: dict[str, Any] | None = (
            configuration_diff if configuration_diff is not None or raw_configuration_diff else {}
        )
        self._raw_diff = raw_configuration_diff

    @property
    def tags(self) -> Tags:
        tags = self._tags
        if tags is None:
            try:
                tags = parse_tags(self._raw_tags)
            except EventError as exc:
                raise EventError(f"the tags of {self.type} {self.id}: {exc}") from None
            self._tags, self._raw_tags = tags, None
        return tags

    @tags.setter
    def tags(self, value: Tags) -> None:
        self._tags, self._raw_tags = value, None

    @property
    def configuration_diff(self) -> dict[str, Any]:
        """``{"Field": [old, new]}`` of a change event (empty when the event had none)."""
        diff = self._diff
        if diff is None:
            from ._event import parse_configuration

            try:
                diff = parse_configuration(self._raw_diff, f"{self.type} {self.id}")
            except EventError as exc:
                log.warning("ignoring configurationDiff of %s %s: %s", self.type, self.id, exc)
                diff = {}
            self._diff, self._raw_diff = diff, None
        return diff

    @configuration_diff.setter
    def configuration_diff(self, value: dict[str, Any]) -> None:
        self._diff, self._raw_diff = value, None

    def copy(self, **changes: Any) -> Resource:
        """A copy with ``changes`` applied (what is still unparsed stays unparsed).

        Example::

            >>> r = Resource(id="i-1", type="ACS::ECS::Instance", region="cn-hangzhou",
            ...              account_id="1234", raw_tags='{"env": ["prod"]}')
            >>> r.copy(region="cn-shanghai").region, r.copy().tags
            ('cn-shanghai', {'env': ['prod']})
        """
        fields = {name: getattr(self, name) for name in self.FIELDS if name not in _LAZY}
        fields.update(changes)
        copied = Resource(**fields)
        if "tags" not in changes:
            copied._tags, copied._raw_tags = self._tags, self._raw_tags
        if "configuration_diff" not in changes:
            copied._diff, copied._raw_diff = self._diff, self._raw_diff
        return copied

    def find(self, path: str) -> list[Any]:
        """Every value ``path`` matches in the configuration (possibly none)."""
        return compile_path(path).find(self.configuration)

    def __getitem__(self, path: str) -> Any:
        """The value at ``path``; a list for wildcard paths. Raises :class:`PathError` naming the
        resource when a plain path matches nothing."""
        compiled = compile_path(path)
        matches = compiled.find(self.configuration)
        if not compiled.singular:
            return matches
        if not matches:
            raise PathError(
                f"{compiled.text} is not in the configuration of {self.type} {self.id}; "
                "use resource.get(path, default) for optional properties"
            )
        return matches[0]

    def get(self, path: str, default: Any = None) -> Any:
        """Like ``resource[path]`` but returns ``default`` when nothing matches."""
        compiled = compile_path(path)
        if compiled.singular:
            return compiled.value(self.configuration, default)
        matches = compiled.find(self.configuration)
        return matches if matches else default

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and bool(compile_path(path).find(self.configuration))

    def __repr__(self) -> str:
        return f"Resource({self.type} {self.id} in {self.region}, account {self.account_id})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resource):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.FIELDS)

    __hash__ = None  # type: ignore[assignment]


def recorded_resource_group(configuration: Any) -> str | None:
    """The resource group the recorded configuration names (``$.ResourceGroupId``, which the
    Describe APIs Cloud Config records carry for most resource types), or None."""
    if isinstance(configuration, dict):
        group = configuration.get("ResourceGroupId")
        if isinstance(group, str) and group:
            return group
    return None
