"""A rule's scope: which resources it applies to, with the Config API's own field names.

Cloud Config applies region, resource-group, resource-id and tag scopes only for *managed* rules;
for a custom (CUSTOM_FC) rule the function must filter itself. The dispatcher does it with this
module, identically for change-triggered and periodic evaluation. Semantics: docs/scope.md.

Example::

    >>> s = Scope.from_api({"RegionIdsScope": "cn-hangzhou,cn-shanghai",
    ...                     "TagKeyScope": "env", "TagValueScope": "prod"})
    >>> s.region_ids, s.tag_logic
    (('cn-hangzhou', 'cn-shanghai'), 'OR')
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ._errors import ScopeError, ScopeWarning
from ._redact import shown
from ._resource import Resource
from ._scope_fields import (
    API_FIELDS,
    BY_LOWER,
    EXCLUDES,
    INCLUDES,
    RESPONSE_FIELDS,
    RULE_FIELDS,
    api_name,
    ids,
    tag_logic,
    unknown_field,
)
from ._tags import TagCondition, has_tag, show_conditions, tag_conditions

__all__ = ["FolderResolver", "Scope"]

#: account id -> the resource-directory folders it sits in (its folder and every ancestor).
FolderResolver = Callable[[str], frozenset[str]]


@dataclass(frozen=True)
class Scope:
    """Which resources a rule applies to. Every field is optional; empty means "no restriction".

    Build it from the API's field names with :meth:`from_api` (comma-separated strings accepted),
    or directly with the snake_case attributes.
    """

    resource_types: tuple[str, ...] = ()
    region_ids: tuple[str, ...] = ()
    exclude_region_ids: tuple[str, ...] = ()
    resource_group_ids: tuple[str, ...] = ()
    exclude_resource_group_ids: tuple[str, ...] = ()
    resource_ids: tuple[str, ...] = ()
    exclude_resource_ids: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    tag_keys: tuple[str, ...] = ()
    tag_value: str | None = None
    tags: tuple[TagCondition, ...] = ()
    exclude_tags: tuple[TagCondition, ...] = ()
    tag_logic: str = "OR"
    account_ids: tuple[str, ...] = ()
    exclude_account_ids: tuple[str, ...] = ()
    folder_ids: tuple[str, ...] = ()
    exclude_folder_ids: tuple[str, ...] = ()
    # Derived in __post_init__: (API field, allowed or excluded values, Resource attribute).
    _includes: tuple[tuple[str, frozenset[str], str], ...] = field(
        init=False, repr=False, compare=False, default=()
    )
    _excludes: tuple[tuple[str, frozenset[str], str], ...] = field(
        init=False, repr=False, compare=False, default=()
    )
    _by_tags: bool = field(init=False, repr=False, compare=False, default=False)
    #: FolderIdsScope or ExcludeFolderIdsScope is set: matching needs a resource-directory lookup.
    needs_folders: bool = field(init=False, repr=False, compare=False, default=False)
    #: ResourceGroupIdsScope or ExcludeResourceGroupIdsScope is set: matching needs the group.
    needs_resource_group: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        # Normalise values given directly to the constructor the same way as from_api.
        for f in fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            api = api_name(f.name)
            if f.name in ("tags", "exclude_tags"):
                normal: Any = tag_conditions(value, api)
            elif f.name == "tag_logic":
                normal = tag_logic(value)
            elif f.name == "tag_value":
                normal = None if value in (None, "") else str(value)
            else:
                normal = ids(value, api)
            object.__setattr__(self, f.name, normal)
        # The checks this scope makes, resolved once: a warm instance matches every event.
        includes = tuple(
            (api, frozenset(getattr(self, name)), attr)
            for api, name, attr in INCLUDES
            if getattr(self, name)
        )
        excludes = tuple(
            (api, frozenset(getattr(self, name)), attr)
            for api, name, attr in EXCLUDES
            if getattr(self, name)
        )
        object.__setattr__(self, "_includes", includes)
        object.__setattr__(self, "_excludes", excludes)
        object.__setattr__(self, "_by_tags", bool(self.exclude_tags or self.tag_conditions()))
        object.__setattr__(self, "needs_folders", bool(self.folder_ids or self.exclude_folder_ids))
        object.__setattr__(
            self,
            "needs_resource_group",
            bool(self.resource_group_ids or self.exclude_resource_group_ids),
        )

    @classmethod
    def from_api(cls, mapping: Mapping[str, Any]) -> Scope:
        """Build a scope from Config API field names (``RegionIdsScope``...).

        Accepts what a user pastes: a whole GetConfigRule / GetAggregateConfigRule response, its
        ``ConfigRule`` object, or just the scope fields. The rule's other fields (RequestId,
        Source, CreateBy...) are ignored and the legacy ``Scope.ComplianceResourceTypes`` is read;
        any other unknown key is an error, so a misspelt scope never silently widens a rule.

        Example::

            >>> Scope.from_api({"RequestId": "r-1", "ConfigRule": {
            ...     "ConfigRuleName": "ecs-image", "RegionIdsScope": "cn-hangzhou",
            ...     "Scope": {"ComplianceResourceTypes": ["ACS::ECS::Instance"]}}}).resource_types
            ('ACS::ECS::Instance',)
        """
        if isinstance(mapping, str):  # JSON text as copied from the console or the CLI
            try:
                mapping = json.loads(mapping)
            except (ValueError, RecursionError):
                raise ScopeError(
                    f"a scope given as text must be a JSON object: {shown(mapping)}"
                ) from None
        if not isinstance(mapping, Mapping):
            raise ScopeError(f"a scope must be a mapping, got {type(mapping).__name__}")
        if isinstance(mapping.get("body"), Mapping) and "statusCode" in mapping:
            mapping = mapping["body"]  # a generated SDK response's to_map(): headers, body
        rule = mapping.get("ConfigRule")
        if "ConfigRule" in mapping and not isinstance(rule, Mapping):
            raise ScopeError(f"ConfigRule must be the rule's object, got {type(rule).__name__}")
        if isinstance(rule, Mapping) and mapping.keys() <= {"ConfigRule", *RESPONSE_FIELDS}:
            mapping = rule
        pasted = rule is mapping or not RULE_FIELDS.isdisjoint(mapping)
        kwargs: dict[str, Any] = {}
        legacy: Any = None
        for key, value in mapping.items():
            name = BY_LOWER.get(str(key).lower())
            if name is not None:
                kwargs[API_FIELDS[name]] = value
            elif key == "Scope":  # the legacy form: {"ComplianceResourceTypes": [...]}
                if not isinstance(value, Mapping) or value.keys() != {"ComplianceResourceTypes"}:
                    raise ScopeError(
                        'the legacy Scope field must be {"ComplianceResourceTypes": [...]}, '
                        f"got {value!r:.80}"
                    )
                legacy = ids(value["ComplianceResourceTypes"], "Scope.ComplianceResourceTypes")
            elif key not in RULE_FIELDS and key not in RESPONSE_FIELDS:
                raise unknown_field(key)
        if legacy and not kwargs.get("resource_types"):
            kwargs["resource_types"] = legacy
        scope = cls(**kwargs)
        if pasted and len(scope.tags) > 1 and not kwargs.get("tag_logic"):
            # GetConfigRule does not return TagKeyLogicScope for rules created with TagsScope: a
            # pasted AND rule would silently become OR (docs/scope.md).
            warnings.warn(
                f"TagsScope has {len(scope.tags)} tags and no TagKeyLogicScope: matching any of "
                "them (OR). GetConfigRule does not return TagKeyLogicScope for rules created "
                "with TagsScope; if the rule requires every tag, add TagKeyLogicScope: AND",
                ScopeWarning,
                stacklevel=2,
            )
        return scope

    @classmethod
    def coerce(cls, value: Scope | Mapping[str, Any] | None) -> Scope:
        """Accept a Scope, a mapping of API field names, or None (no restriction)."""
        if value is None:
            return cls()
        if isinstance(value, Scope):
            return value
        if isinstance(value, Mapping):
            return cls.from_api(value)
        raise ScopeError(f"scope must be a rulekit.Scope or a mapping, got {type(value).__name__}")

    @staticmethod
    def split_parameters(parameters: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Split rule parameters into (scope overrides by API name, the rule's own parameters).

        Operators may set scope keys as rule parameters (``RegionIdsScope`` or ``regionIdsScope``)
        to change a rule's scope without redeploying it.
        """
        scope: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for key, value in parameters.items():
            name = BY_LOWER.get(str(key).lower())
            if name is None:
                rest[key] = value
            else:
                scope[name] = value
        return scope, rest

    def override(self, mapping: Mapping[str, Any]) -> Scope:
        """A copy where every field named in ``mapping`` (API names) replaces the declared one."""
        if not mapping:
            return self
        given = Scope.from_api(mapping)
        changes = {API_FIELDS[BY_LOWER[str(k).lower()]]: None for k in mapping}
        return replace(self, **{name: getattr(given, name) for name in changes})

    def tag_conditions(self) -> tuple[TagCondition, ...]:
        """TagsScope plus the legacy TagKeyScope/TagValueScope pairs."""
        legacy = tuple((key, self.tag_value) for key in self.tag_keys)
        return legacy + self.tags

    def why_undecided(self, resource: Resource) -> str | None:
        """None when the scope can be decided for ``resource``; else why not. Only the resource
        group can be unknown: the aggregator's APIs and some events do not carry it, and
        guessing would put a resource in or out of a group scope wrongly (docs/scope.md)."""
        if self.needs_resource_group and resource.resource_group_id is None:
            field_name = (
                "ResourceGroupIdsScope"
                if self.resource_group_ids
                else "ExcludeResourceGroupIdsScope"
            )
            return (
                f"resource group unknown: neither the platform's resource record nor the "
                f"configuration gives the resource group of {resource.type} {resource.id}, "
                f"so {field_name} cannot be decided"
            )
        return None

    def why_out_of_scope(
        self, resource: Resource, folders: FolderResolver | None = None
    ) -> str | None:
        """None when ``resource`` is in scope, else a short reason naming the scope field. An
        unknown resource group (None) decides nothing here: :meth:`why_undecided` says so once
        every other field has let the resource in."""
        for api, allowed, attr in self._includes:
            actual = getattr(resource, attr)
            if actual not in allowed and not (actual is None and attr == "resource_group_id"):
                return f"{actual or 'none'} is not in {api}"
        for api, excluded, attr in self._excludes:
            actual = getattr(resource, attr)
            if actual in excluded:
                return f"{actual} is excluded by {api}"
        if self.needs_folders:
            reason = self._folder_reason(resource, folders)
            if reason:
                return reason
        return self._tag_reason(resource) if self._by_tags else None

    def _folder_reason(self, resource: Resource, folders: FolderResolver | None) -> str | None:
        if folders is None:
            raise ScopeError(
                "FolderIdsScope/ExcludeFolderIdsScope need a resource-directory lookup, "
                "and none is configured for this dispatcher"
            )
        mine = folders(resource.account_id)
        if self.folder_ids and not mine.intersection(self.folder_ids):
            return f"account {resource.account_id} is not in a folder of FolderIdsScope"
        hit = mine.intersection(self.exclude_folder_ids)
        if hit:
            return f"account {resource.account_id} is in excluded folder {sorted(hit)[0]}"
        return None

    def _tag_reason(self, resource: Resource) -> str | None:
        for condition in self.exclude_tags:
            if has_tag(resource, condition):
                return f"tag {show_conditions([condition])} is excluded by ExcludeTagsScope"
        wanted = self.tag_conditions()
        if not wanted:
            return None
        matched = [has_tag(resource, c) for c in wanted]
        ok = all(matched) if self.tag_logic == "AND" else any(matched)
        if ok:
            return None
        return f"tags do not match the tag scope ({self.tag_logic} of {show_conditions(wanted)})"

    def to_api(self) -> dict[str, Any]:
        """The non-empty fields under their Config API names (lists joined by commas)."""
        out: dict[str, Any] = {}
        for api, name in API_FIELDS.items():
            value = getattr(self, name)
            if name in ("tags", "exclude_tags"):
                if value:
                    out[api] = [{"TagKey": k, "TagValue": v or ""} for k, v in value]
            elif name == "tag_logic":
                if value != "OR" or self.tags or self.tag_keys:
                    out[api] = value
            elif value:
                out[api] = value if isinstance(value, str) else ",".join(value)
        return out
