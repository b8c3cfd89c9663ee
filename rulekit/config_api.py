"""The Cloud Config API (version 2020-09-07) operations a rule framework needs.

Example::

    config = ConfigApi(client, endpoint=resolve_endpoint("Config", "cn-hangzhou"))
    config.put_evaluations(event.result_token, [ev.to_wire() for ev in batch])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .api import ApiClient
from .endpoints import PRODUCTS, resolve_endpoint
from .errors import ApiError

__all__ = ["CONFIG_API_VERSION", "ConfigApi"]

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
            "Evaluations": json.dumps(list(evaluations), separators=(",", ":"), ensure_ascii=False),
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
        self, resource_id: str, resource_type: str, region: str
    ) -> dict[str, Any]:
        """The DiscoveredResourceDetail of one resource (its Configuration is a JSON string)."""
        body = self.call(
            "GetDiscoveredResource",
            {"ResourceId": resource_id, "ResourceType": resource_type, "Region": region},
        )
        detail = body.get("DiscoveredResourceDetail")
        if not isinstance(detail, dict):
            raise ApiError(
                f"GetDiscoveredResource returned no DiscoveredResourceDetail for "
                f"{resource_type} {resource_id}",
                action="GetDiscoveredResource",
                code="InvalidResponse",
                request_id=body.get("RequestId"),
            )
        return detail
