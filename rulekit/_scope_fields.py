"""The Config API's scope fields: their names, the fields of a pasted rule that are not scope,
and how a field's value is read (comma-separated text or a list; AND/OR tag logic).

Example::

    >>> ids("cn-hangzhou, cn-shanghai,", "RegionIdsScope")
    ('cn-hangzhou', 'cn-shanghai')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._errors import ScopeError
from ._redact import shown

__all__ = ["API_FIELDS", "RULE_FIELDS", "api_name", "ids", "tag_logic", "unknown_field"]

#: Config API field name -> Scope attribute.
API_FIELDS: dict[str, str] = {
    "ResourceTypesScope": "resource_types",
    "RegionIdsScope": "region_ids",
    "ExcludeRegionIdsScope": "exclude_region_ids",
    "ResourceGroupIdsScope": "resource_group_ids",
    "ExcludeResourceGroupIdsScope": "exclude_resource_group_ids",
    "ResourceIdsScope": "resource_ids",
    "ExcludeResourceIdsScope": "exclude_resource_ids",
    "ResourceNameScope": "resource_names",
    "TagKeyScope": "tag_keys",
    "TagValueScope": "tag_value",
    "TagsScope": "tags",
    "ExcludeTagsScope": "exclude_tags",
    "TagKeyLogicScope": "tag_logic",
    "AccountIdsScope": "account_ids",
    "ExcludeAccountIdsScope": "exclude_account_ids",
    "FolderIdsScope": "folder_ids",
    "ExcludeFolderIdsScope": "exclude_folder_ids",
}
BY_LOWER = {name.lower(): name for name in API_FIELDS}

#: The fields of a GetConfigRule / GetAggregateConfigRule ``ConfigRule`` that are not scope
#: fields (from the official 2020-09-07 models; tests/test_contract.py keeps the list in step).
#: A pasted rule's are ignored; any other unknown key is an error, so a misspelt scope field
#: never silently widens a rule.
RULE_FIELDS = frozenset(
    {
        "AccountId",
        "Compliance",
        "ConfigRuleArn",
        "ConfigRuleEvaluationStatus",
        "ConfigRuleId",
        "ConfigRuleName",
        "ConfigRuleState",
        "ConfigRuleTriggerTypes",
        "CreateBy",
        "CreateTimestamp",
        "Description",
        "ExtendContent",
        "InputParameters",
        "ManagedRule",
        "MaximumExecutionFrequency",
        "ModifiedTimestamp",
        "RiskLevel",
        "Source",
        "Tags",
    }
)
#: Around the ConfigRule object in a whole GetConfigRule / GetAggregateConfigRule response.
RESPONSE_FIELDS = frozenset({"RequestId"})


def ids(value: Any, field_name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        raise ScopeError(
            f"{field_name} must be a comma-separated string or a list, got {type(value).__name__}"
        )
    out = []
    for item in items:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            raise ScopeError(f"{field_name} holds {item!r}; expected strings")
        text = str(item).strip()
        if text:
            out.append(text)
    return tuple(dict.fromkeys(out))


def tag_logic(value: Any) -> str:
    if value is None or value == "":
        return "OR"
    if isinstance(value, str) and value.strip().upper() in ("AND", "OR"):
        return value.strip().upper()
    raise ScopeError(f"TagKeyLogicScope must be AND or OR, got {value!r}")


# (API field, Scope attribute, Resource attribute) of the id-like scopes, in checking order.
INCLUDES = (
    ("ResourceTypesScope", "resource_types", "type"),
    ("RegionIdsScope", "region_ids", "region"),
    ("ResourceGroupIdsScope", "resource_group_ids", "resource_group_id"),
    ("ResourceIdsScope", "resource_ids", "id"),
    ("ResourceNameScope", "resource_names", "name"),
    ("AccountIdsScope", "account_ids", "account_id"),
)
EXCLUDES = (
    ("ExcludeRegionIdsScope", "exclude_region_ids", "region"),
    ("ExcludeResourceGroupIdsScope", "exclude_resource_group_ids", "resource_group_id"),
    ("ExcludeResourceIdsScope", "exclude_resource_ids", "id"),
    ("ExcludeAccountIdsScope", "exclude_account_ids", "account_id"),
)


def unknown_field(key: Any) -> ScopeError:
    import difflib

    close = difflib.get_close_matches(str(key), list(API_FIELDS), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(API_FIELDS)}"
    return ScopeError(f"unknown scope field {shown(key)}; {hint}")


def api_name(attribute: str) -> str:
    for api, name in API_FIELDS.items():
        if name == attribute:
            return api
    return attribute  # pragma: no cover - every field is in API_FIELDS
