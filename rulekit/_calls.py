"""Calling Alibaba Cloud RPC APIs from a rule: ``ctx.call`` and ``ctx.paginate``.

Calls use the function's credentials and rulekit's retry policy (the same as delivery). Known
products (``endpoints.PRODUCTS``: Ecs, Vpc, Ram, Rds, Slb, Config, Sts, ...) have default
versions and endpoints; ``RULEKIT_<PRODUCT>_ENDPOINT`` / ``RULEKIT_ENDPOINT`` override them.
With ``account_id=``, the call runs in that member account through STS AssumeRole on
``acs:ram::<account>:role/<RULEKIT_ASSUME_ROLE_NAME>``, credentials cached until near expiry.

Example::

    @rule(resource_type="ACS::ECS::Instance")
    def ecs_image_owner_system(resource, ctx):
        images = ctx.call("Ecs", "DescribeImages", RegionId=resource.region,
                          ImageId=resource["$.ImageId"])
        ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._api import ApiClient
from ._credentials import Credentials
from ._endpoints import product, resolve_endpoint
from ._errors import ApiError, ConfigurationError

__all__ = ["DEFAULT_ROLE_NAME", "AssumedClients", "CloudApi"]

#: The role Resource Directory creates in every member account for the management account.
DEFAULT_ROLE_NAME = "ResourceDirectoryAccountAccessRole"
_REFRESH_BEFORE = 300.0  # seconds before expiry at which assumed credentials are renewed
_MAX_ASSUMED = 1024  # member clients kept; expired ones go first

#: (account, role name, STS endpoint) -> (expiry, the member account's client). The FC handler
#: passes one for all the invocations of a warm instance: STS throttles AssumeRole, and a burst
#: of change events must not assume the same role once per event.
AssumedClients = dict[tuple[str, str, str], tuple[float, ApiClient]]
# AssumeRole calls are serialised, across invocations too, so that concurrent invocations do not
# assume the same role twice (they are rare: once per member account and hour).
_assume_lock = threading.Lock()
_MAX_PAGES = 10_000


class CloudApi:
    """RPC calls for rules. ``client_for(credentials)`` builds the ApiClient (injectable)."""

    def __init__(
        self,
        client: ApiClient,
        *,
        environ: Mapping[str, str] | None = None,
        client_for: Callable[[Credentials], ApiClient] | None = None,
        clock: Callable[[], float] = time.time,
        assumed: AssumedClients | None = None,
    ) -> None:
        self.client = client
        self.environ: Mapping[str, str] = environ if environ is not None else {}
        self._client_for = client_for or (
            lambda creds: ApiClient(
                creds,
                region_id=client.region_id,
                retry=client.retry,
                deadline=client.deadline,
                timeout=client.timeout,
                # The member account's own quota (its own pace), under the same user limits.
                rate_limits=client.pacing.limits,
            )
        )
        self._clock = clock
        self._assumed: AssumedClients = assumed if assumed is not None else {}

    @property
    def role_name(self) -> str:
        return self.environ.get("RULEKIT_ASSUME_ROLE_NAME") or DEFAULT_ROLE_NAME

    def call(
        self,
        product_name: str,
        action: str,
        version: str | None = None,
        region: str | None = None,
        *,
        account_id: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Call ``product_name``.``action`` and return the JSON body (``ApiError`` on failure)."""
        known = product(product_name)
        version = version or (known.version if known else None)
        if version is None:
            raise ConfigurationError(
                f"unknown product {product_name!r}: pass version= "
                "(and set RULEKIT_<PRODUCT>_ENDPOINT if needed)"
            )
        region = region or str(params.get("RegionId") or self.client.region_id)
        endpoint = resolve_endpoint(product_name, region, self.environ)
        client = self.client if account_id is None else self._member(str(account_id))
        name = known.name if known else product_name
        return client.call(action, params, product=name, version=version, endpoint=endpoint)

    def paginate(
        self,
        product_name: str,
        action: str,
        items: str,
        version: str | None = None,
        region: str | None = None,
        *,
        account_id: str | None = None,
        page_size: int = 50,
        paging: str | None = None,
        **params: Any,
    ) -> Iterator[Any]:
        """Yield every item of a list API across pages. ``items`` is the dotted path of the list
        in the response (``"Images.Image"``).

        Alibaba Cloud list APIs page in one of three ways, chosen by ``paging`` or detected:
        ``"token"`` (NextToken / MaxResults), ``"marker"`` (Marker / IsTruncated / MaxItems, as
        RAM's ListUsers, ListRoles, ListPolicies...) and ``"page"`` (PageNumber / PageSize, until
        TotalCount or a short page). Passing NextToken or MaxResults picks token paging, Marker or
        MaxItems marker paging; RAM defaults to markers; otherwise the first answer tells. Paging
        stops at TotalCount when the API gives one, and a token, marker or page that repeats
        raises ApiError at once (a server that ignores the position would loop forever).
        """
        style = paging or _paging_style(product_name, params)
        if style not in ("auto", "token", "marker", "page"):
            raise ConfigurationError(f"paging must be token, marker or page, got {style!r}")
        position = params.pop("NextToken", None) or params.pop("Marker", None)
        page, seen = 1, 0
        positions: set[str] = set()
        previous: list[Any] | None = None
        for _ in range(_MAX_PAGES):
            query = dict(params)
            if style == "token":
                query.setdefault("MaxResults", page_size)
                if position:
                    query["NextToken"] = position
            elif style == "marker":
                query.setdefault("MaxItems", page_size)
                if position:
                    query["Marker"] = position
            else:
                query.update(PageNumber=page, PageSize=page_size)
            body = self.call(product_name, action, version, region, account_id=account_id, **query)
            found = _dig(body, items)
            if style in ("auto", "page") and found and found == previous:
                raise _paging_loop(action, f"page {page} repeats page {page - 1}")
            yield from found
            seen += len(found)
            total = body.get("TotalCount")
            if isinstance(total, int) and not isinstance(total, bool) and seen >= total:
                return
            if style == "auto":  # the first answer tells which paging the API uses
                style = _answer_style(body)
            if style in ("token", "marker"):
                if style == "token":
                    position = body.get("NextToken") or None
                else:
                    position = body.get("Marker") if body.get("IsTruncated") is True else None
                if not position:
                    return
                if str(position) in positions:
                    raise _paging_loop(action, f"{style} {position!r:.40} came back a second time")
                positions.add(str(position))
                continue
            if not found or len(found) < page_size:
                return
            previous, page = found, page + 1
        raise ApiError(
            f"{action} returned more than {_MAX_PAGES} pages", action=action, code="TooManyPages"
        )

    def _member(self, account_id: str) -> ApiClient:
        region = self.client.region_id
        key = (account_id, self.role_name, resolve_endpoint("Sts", region, self.environ))
        with _assume_lock:
            cached = self._assumed.get(key)
            if cached is not None and cached[0] - self._clock() > _REFRESH_BEFORE:
                return cached[1].under(self.client.deadline)  # this invocation's deadline
            body = self.call(
                "Sts",
                "AssumeRole",
                RoleArn=f"acs:ram::{account_id}:role/{self.role_name}",
                RoleSessionName="rulekit",
                DurationSeconds=3600,
            )
            creds = body.get("Credentials")
            if not isinstance(creds, dict) or not creds.get("AccessKeyId"):
                raise ApiError(
                    f"AssumeRole into account {account_id} returned no credentials",
                    action="AssumeRole",
                    code="InvalidResponse",
                )
            member = self._client_for(
                Credentials(
                    creds["AccessKeyId"], creds["AccessKeySecret"], creds.get("SecurityToken")
                )
            )
            now = self._clock()
            if len(self._assumed) >= _MAX_ASSUMED:
                for stale in [k for k, (expiry, _) in self._assumed.items() if expiry <= now]:
                    del self._assumed[stale]
                while len(self._assumed) >= _MAX_ASSUMED:
                    del self._assumed[next(iter(self._assumed))]
            self._assumed[key] = (_expiry(creds.get("Expiration"), now), member)
            return member


def _paging_style(product_name: str, params: Mapping[str, Any]) -> str:
    if "NextToken" in params or "MaxResults" in params:
        return "token"
    if "Marker" in params or "MaxItems" in params:
        return "marker"
    known = product(product_name)
    if known is not None and known.name == "Ram":  # every RAM list API pages with markers
        return "marker"
    return "auto"


def _answer_style(body: Mapping[str, Any]) -> str:
    if "NextToken" in body:
        return "token"
    if "IsTruncated" in body or "Marker" in body:
        return "marker"
    return "page"


def _paging_loop(action: str, what: str) -> ApiError:
    return ApiError(
        f"{action} paging does not advance: {what}; stopping instead of looping",
        action=action,
        code="PagingLoop",
    )


def _dig(body: Mapping[str, Any], dotted: str) -> list[Any]:
    node: Any = body
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return []
        node = node.get(part)
    if node is None:
        return []
    return list(node) if isinstance(node, list) else [node]


def _expiry(text: Any, now: float) -> float:
    from datetime import datetime, timezone

    if isinstance(text, str):
        try:
            stamp = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            return stamp.timestamp()
        except ValueError:
            pass
    return now + 3600  # AssumeRole's DurationSeconds when the response does not say
