"""The Cloud Config API (version 2020-09-07) operations a rule framework needs.

Example::

    config = ConfigApi(client, endpoint=resolve_endpoint("Config", "cn-hangzhou"))
    config.put_evaluations(event.result_token, [ev.to_wire() for ev in batch])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from ._api import ApiClient
from ._endpoints import PRODUCTS, resolve_endpoint
from ._errors import ApiError, EventError
from ._evaluation import encode_evaluations
from ._event import parse_configuration
from ._redact import shown
from ._resource import Resource, recorded_resource_group
from ._tags import parse_tags

__all__ = ["CONFIG_API_VERSION", "ConfigApi", "DiscoveredPage", "resource_from_profile"]

CONFIG_API_VERSION = PRODUCTS["config"].version


class ConfigApi:
    """Typed wrappers over the Config actions rulekit calls."""

    def __init__(self, client: ApiClient, endpoint: str | None = None) -> None:
        self.client = client
        self.endpoint = endpoint or resolve_endpoint("Config", client.region_id)

    def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.client.call(
            action, params, product="Config", version=CONFIG_API_VERSION, endpoint=self.endpoint
        )

    def put_evaluations(
        self, result_token: str, evaluations: Sequence[dict[str, Any]], *, delete_mode: bool = False
    ) -> None:
        """Report up to 100 evaluations (already in wire form). ``Evaluations`` goes out as a JSON
        array string, never a Python repr."""
        params: dict[str, Any] = {
            "ResultToken": result_token,
            "Evaluations": encode_evaluations(evaluations),
        }
        if delete_mode:
            params["DeleteMode"] = True
        body = self.call("PutEvaluations", params)
        if body.get("Result") is False:
            raise ApiError(
                "PutEvaluations returned Result=false: Cloud Config did not accept the evaluations",
                action="PutEvaluations",
                code="ResultFalse",
                request_id=body.get("RequestId"),
            )

    def get_discovered_resource(
        self,
        resource_id: str,
        resource_type: str,
        region: str,
        *,
        aggregator_id: str | None = None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """The DiscoveredResourceDetail of one resource (its Configuration is a JSON string).
        With ``aggregator_id``: GetAggregateDiscoveredResource for a member account's resource."""
        params: dict[str, Any] = {
            "ResourceId": resource_id,
            "ResourceType": resource_type,
            "Region": region,
        }
        action = "GetDiscoveredResource"
        if aggregator_id:
            action = "GetAggregateDiscoveredResource"
            params.update(AggregatorId=aggregator_id, ResourceAccountId=account_id)
        body = self.call(action, params)
        return _member(
            body, "DiscoveredResourceDetail", action, f" for {resource_type} {resource_id}"
        )

    def fetch_configuration(
        self, resource: Resource, *, aggregator_id: str | None = None
    ) -> Resource:
        """A copy of ``resource`` with its configuration from GetDiscoveredResource (or
        GetAggregateDiscoveredResource with ``aggregator_id``): for an OVERSIZE event's resource
        and for each listed resource of a sweep. Tags and account are taken from the detail when
        the resource lacked them, and the resource group from the configuration when nothing
        gave it before.

        Example::

            resource = config.fetch_configuration(event.resource)
            resource.get("$.ImageId")
        """
        detail = self.get_discovered_resource(
            resource.id,
            resource.type,
            resource.region,
            aggregator_id=aggregator_id,
            account_id=resource.account_id or None,
        )
        configuration = parse_configuration(
            detail.get("Configuration"), f"{resource.type} {resource.id}"
        )
        fetched = resource.copy(
            configuration=configuration,
            # The detail has no resource group (neither has the aggregator's listing): the
            # recorded configuration is the platform's only other record of it.
            resource_group_id=(
                recorded_resource_group(configuration)
                if resource.resource_group_id is None
                else resource.resource_group_id
            ),
        )
        if not resource.tags and detail.get("Tags"):
            fetched.tags = parse_tags(detail.get("Tags"))
        if not resource.account_id and detail.get("AccountId"):
            fetched.account_id = str(detail["AccountId"])
        return fetched

    def list_discovered_resources(
        self,
        resource_types: Sequence[str],
        regions: Sequence[str] = (),
        *,
        aggregator_id: str | None = None,
        page_size: int = 100,
        deleted: bool = False,
        updated_between: tuple[int, int] | None = None,
        next_token: str | None = None,
    ) -> Iterator[DiscoveredPage]:
        """Every page of ListDiscoveredResources (or ListAggregateDiscoveredResources with
        ``aggregator_id``), following NextToken; fetched one page at a time.

        The platform lists retained resources unless asked for deleted ones (``ResourceDeleted``
        1, its default, or 0); ``updated_between`` is the (start, end) of the update time in ms,
        at most 30 days apart. Only the non-aggregate profiles carry ``ResourceGroupId``.
        ``next_token`` starts at a later page (a chained sweep's next link)."""
        action = "ListAggregateDiscoveredResources" if aggregator_id else "ListDiscoveredResources"
        params: dict[str, Any] = {
            "ResourceTypes": ",".join(resource_types),
            "MaxResults": page_size,
            "ResourceDeleted": 0 if deleted else 1,
        }
        if regions:
            params["Regions"] = ",".join(regions)
        if aggregator_id:
            params["AggregatorId"] = aggregator_id
        if updated_between is not None:
            params["StartUpdateTimestamp"], params["EndUpdateTimestamp"] = updated_between
        token = next_token
        while True:
            sent = token
            body = self.call(action, {**params, "NextToken": token})
            profiles = _member(body, "DiscoveredResourceProfiles", action)
            items = profiles.get("DiscoveredResourceProfileList") or []
            total = profiles.get("TotalCount")
            token = profiles.get("NextToken") or None
            yield DiscoveredPage(
                list(items) if isinstance(items, list) else [],
                total if isinstance(total, int) else None,
                sent,
            )
            if not token:
                return


class DiscoveredPage(NamedTuple):
    """One page of discovered resource profiles, with the listing's TotalCount if given and
    the NextToken that fetched it (None: the first page)."""

    profiles: list[Any]
    total: int | None
    token: str | None = None


def _member(body: dict[str, Any], key: str, action: str, what: str = "") -> dict[str, Any]:
    """The object ``key`` of a response, or an ApiError: a reply without it cannot be used."""
    member = body.get(key)
    if not isinstance(member, dict):
        raise ApiError(
            f"{action} returned no {key}{what}",
            action=action,
            code="InvalidResponse",
            request_id=body.get("RequestId"),
        )
    return member


def resource_from_profile(profile: Any) -> Resource:
    """A Resource (without configuration) from a DiscoveredResourceProfileList entry."""
    if not isinstance(profile, dict):
        raise EventError(f"a resource profile is not an object: {shown(profile)}")
    rid, rtype, region = (profile.get(k) for k in ("ResourceId", "ResourceType", "Region"))
    if not rid or not rtype or not region:
        raise EventError(
            f"a resource profile lacks ResourceId, ResourceType or Region: {sorted(profile)}"
        )
    account = profile.get("AccountId")
    return Resource(
        id=str(rid),
        type=str(rtype),
        region=str(region),
        account_id=str(account) if account not in (None, "") else "",
        name=profile.get("ResourceName") or None,
        status=profile.get("ResourceStatus") or None,
        # Only ListDiscoveredResources carries it; "" there means the resource has no group,
        # while an absent key (the aggregator's listing) leaves it unknown until the fetch.
        resource_group_id=_text(profile.get("ResourceGroupId")),
        tags=parse_tags(profile.get("Tags")),
        creation_time=profile.get("ResourceCreationTime"),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
