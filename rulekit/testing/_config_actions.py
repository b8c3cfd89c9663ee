"""The emulator's built-in actions: Cloud Config (2020-09-07) and ResourceManager (2020-03-31).

PutEvaluations is validated as strictly as rulekit can infer from the platform's documentation
(docs/testing.md): ``Evaluations`` must be a JSON array string (a Python repr is rejected) of at
most 100 objects with exactly the documented lowerCamel fields.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._faults import ApiCallError

if TYPE_CHECKING:
    from ._emulator import ConfigEmulator

__all__ = ["MAX_EVALUATIONS_PER_CALL", "register"]

MAX_EVALUATIONS_PER_CALL = 100
_REQUIRED = {
    "accountId",
    "complianceResourceId",
    "complianceResourceType",
    "complianceRegionId",
    "complianceType",
    "orderingTimestamp",
}
_OPTIONAL = {"annotation", "complianceResourceName"}
_COMPLIANCE = {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"}


def _invalid(name: str, message: str) -> ApiCallError:
    return ApiCallError(400, f"InvalidParameter.{name}", message)


def _evaluations(text: str | None) -> list[dict[str, Any]]:
    if not text:
        raise ApiCallError(400, "MissingParameter.Evaluations", "Evaluations is mandatory.")
    try:
        items = json.loads(text)
    except ValueError:
        raise _invalid("Evaluations", "Evaluations is not a valid JSON array string.") from None
    if not isinstance(items, list):
        raise _invalid("Evaluations", "Evaluations must be a JSON array.")
    if len(items) > MAX_EVALUATIONS_PER_CALL:
        raise _invalid("Evaluations", f"At most {MAX_EVALUATIONS_PER_CALL} evaluations a call.")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _invalid("Evaluations", f"Evaluations[{index}] is not an object.")
        missing = _REQUIRED - item.keys()
        unknown = item.keys() - _REQUIRED - _OPTIONAL
        if missing or unknown:
            raise _invalid(
                "Evaluations",
                f"Evaluations[{index}]: missing {sorted(missing)}, unknown {sorted(unknown)}.",
            )
        if item["complianceType"] not in _COMPLIANCE:
            raise _invalid("ComplianceType", f"Evaluations[{index}].complianceType is invalid.")
        if not isinstance(item["orderingTimestamp"], int):
            raise _invalid(
                "OrderingTimestamp", f"Evaluations[{index}].orderingTimestamp must be a long."
            )
        if "annotation" in item and not isinstance(item["annotation"], str):
            raise _invalid("Annotation", f"Evaluations[{index}].annotation must be a string.")
    return items


def _integer(params: dict[str, str], name: str) -> int:
    try:
        return int(params[name])
    except ValueError:
        raise _invalid(name, f"{name} is invalid.") from None


#: StartUpdateTimestamp..EndUpdateTimestamp may span at most 30 days (the API reference).
_MAX_UPDATE_WINDOW_MS = 30 * 24 * 3600 * 1000


def _update_window(params: dict[str, str]) -> tuple[int, int] | None:
    given = [name for name in ("StartUpdateTimestamp", "EndUpdateTimestamp") if params.get(name)]
    if not given:
        return None
    if len(given) == 1:
        raise _invalid(
            "UpdateTimestamp",
            "StartUpdateTimestamp and EndUpdateTimestamp must be given together.",
        )
    start = _integer(params, "StartUpdateTimestamp")
    end = _integer(params, "EndUpdateTimestamp")
    if start > end or end - start > _MAX_UPDATE_WINDOW_MS:
        raise _invalid(
            "UpdateTimestamp",
            "EndUpdateTimestamp must not precede StartUpdateTimestamp, by at most 30 days.",
        )
    return start, end


def register(emulator: ConfigEmulator) -> None:
    """Install the built-in action handlers on ``emulator``."""

    def put_evaluations(params: dict[str, str]) -> dict[str, Any]:
        if not params.get("ResultToken"):
            raise ApiCallError(400, "MissingParameter.ResultToken", "ResultToken is mandatory.")
        if params.get("DeleteMode", "false") not in ("true", "false"):
            raise _invalid("DeleteMode", "DeleteMode must be true or false.")
        items = _evaluations(params.get("Evaluations"))
        with emulator._lock:
            emulator.evaluations.extend(items)
        return {"Result": True}

    def get_discovered_resource(params: dict[str, str]) -> dict[str, Any]:
        for name in ("ResourceId", "ResourceType"):
            if not params.get(name):
                raise ApiCallError(400, f"MissingParameter.{name}", f"{name} is mandatory.")
        item = emulator.store.get(
            params["ResourceType"], params["ResourceId"], params.get("Region")
        )
        account = params.get("ResourceAccountId")
        if item is None or (account and item.account_id != account):
            raise ApiCallError(404, "ResourceNotExists", "The resource does not exist.")
        return {"DiscoveredResourceDetail": item.detail()}

    def aggregator(params: dict[str, str]) -> None:
        if params.get("AggregatorId") != emulator.aggregator_id or not emulator.aggregator_id:
            raise ApiCallError(
                404, "Invalid.AggregatorId.Value", "The specified aggregator does not exist."
            )

    def get_aggregate_discovered_resource(params: dict[str, str]) -> dict[str, Any]:
        aggregator(params)
        if not params.get("Region"):  # required here, unlike GetDiscoveredResource
            raise ApiCallError(400, "MissingParameter.Region", "Region is mandatory.")
        return get_discovered_resource(params)

    def list_aggregate_discovered_resources(params: dict[str, str]) -> dict[str, Any]:
        aggregator(params)
        return list_discovered_resources(params, aggregate=True)

    def assume_role(params: dict[str, str]) -> dict[str, Any]:
        arn = params.get("RoleArn", "")
        if not arn.startswith("acs:ram::") or ":role/" not in arn:
            raise ApiCallError(400, "InvalidParameter.RoleArn", "The RoleArn is invalid.")
        account = arn.split("::", 1)[1].split(":", 1)[0]
        creds = emulator.issue_credentials(account)
        return {
            "Credentials": {
                "AccessKeyId": creds.access_key_id,
                "AccessKeySecret": creds.access_key_secret,
                "SecurityToken": creds.security_token,
                "Expiration": "2099-01-01T00:00:00Z",
            },
            "AssumedRoleUser": {"Arn": f"{arn}/rulekit", "AssumedRoleId": "rulekit"},
        }

    def list_discovered_resources(
        params: dict[str, str], aggregate: bool = False
    ) -> dict[str, Any]:
        types = {t for t in params.get("ResourceTypes", "").split(",") if t} or None
        regions = {r for r in params.get("Regions", "").split(",") if r} or None
        if not params.get("MaxResults"):
            raise ApiCallError(400, "MissingParameter.MaxResults", "MaxResults is mandatory.")
        max_results = _integer(params, "MaxResults")
        start = _integer(params, "NextToken") if params.get("NextToken") else 0
        if not 1 <= max_results <= 100:
            raise _invalid("MaxResults", "MaxResults must be 1..100.")
        # ResourceDeleted: 1 (the default) lists retained resources, 0 deleted ones.
        deleted = params.get("ResourceDeleted", "1")
        if deleted not in ("0", "1"):
            raise _invalid("ResourceDeleted", "ResourceDeleted must be 0 or 1.")
        items = emulator.store.select(types, regions, deleted=deleted == "0")
        window = _update_window(params)
        if window is not None:
            items = [item for item in items if window[0] <= item.update_time <= window[1]]
        account = params.get("ResourceAccountId")
        if aggregate and account:
            items = [item for item in items if item.account_id == account]
        page = items[start : start + max_results]
        following = start + max_results
        return {
            "DiscoveredResourceProfiles": {
                "DiscoveredResourceProfileList": [
                    item.profile(aggregate=aggregate) for item in page
                ],
                "MaxResults": max_results,
                "NextToken": str(following) if following < len(items) else "",
                "TotalCount": len(items),
            }
        }

    def get_account(params: dict[str, str]) -> dict[str, Any]:
        account = emulator.accounts.get(params.get("AccountId", ""))
        if account is None:
            raise ApiCallError(404, "EntityNotExists.Account", "The account does not exist.")
        # The official model always writes Account.Tags (a list); IncludeTags fills it.
        return {"Account": {"AccountId": params["AccountId"], "FolderId": account[0], "Tags": []}}

    def list_ancestors(params: dict[str, str]) -> dict[str, Any]:
        child = params.get("ChildId", "")
        for folder, ancestors in emulator.accounts.values():
            if folder == child:
                return {"Folders": {"Folder": [{"FolderId": f} for f in ancestors]}}
        raise ApiCallError(404, "EntityNotExists.Folder", "The folder does not exist.")

    emulator.handle("config", "PutEvaluations", put_evaluations)
    emulator.handle("config", "GetDiscoveredResource", get_discovered_resource)
    emulator.handle("config", "ListDiscoveredResources", list_discovered_resources)
    emulator.handle("config", "GetAggregateDiscoveredResource", get_aggregate_discovered_resource)
    emulator.handle(
        "config", "ListAggregateDiscoveredResources", list_aggregate_discovered_resources
    )
    emulator.handle("sts", "AssumeRole", assume_role)
    emulator.handle("resourcemanager", "GetAccount", get_account)
    emulator.handle("resourcemanager", "ListAncestors", list_ancestors)
