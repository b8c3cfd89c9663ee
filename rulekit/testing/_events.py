"""Platform-shaped events and an FC-shaped context, for tests and local runs.

The builders produce exactly what Cloud Config sends: ``configuration`` and ``tags`` as JSON
strings inside the configuration item, string rule parameters, a result token.

Example::

    event = change_event("ACS::ECS::Instance", "i-1", {"ImageId": "m-1"},
                         tags={"env": ["prod"]}, rule_parameters={"imageIds": "m-1"})
    handler(json.dumps(event).encode(), FCContext())
"""

from __future__ import annotations

import json
from importlib import resources
from types import SimpleNamespace
from typing import Any

from .._credentials import Credentials
from .._event import CHANGE_NOTIFICATION, SCHEDULED_NOTIFICATION
from ._store import DEFAULT_ACCOUNT_ID

__all__ = ["FCContext", "change_event", "sample_event", "scheduled_event"]

TEST_RESULT_TOKEN = "rulekit-test-result-token-0123456789"
ORDERING_TIMESTAMP = 1700000000123


def _item(
    resource_type: str,
    resource_id: str,
    configuration: Any,
    *,
    region: str,
    account_id: str,
    tags: Any,
    name: str | None,
    resource_group_id: str | None,
    status: str,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "accountId": int(account_id) if account_id.isdigit() else account_id,
        "regionId": region,
        "availabilityZone": f"{region}-a",
        "resourceId": resource_id,
        "resourceType": resource_type,
        "resourceName": name or resource_id,
        "resourceStatus": status,
        "captureTime": ORDERING_TIMESTAMP - 100,
        "resourceCreationTime": 1600000000000,
        "arn": f"acs:{resource_type.split('::')[1].lower()}:{region}:{account_id}:{resource_id}",
        "tags": tags if isinstance(tags, str) else json.dumps(tags or {}),
        "configuration": configuration
        if isinstance(configuration, str)
        else json.dumps(configuration or {}, separators=(",", ":")),
    }
    if resource_group_id:
        item["resourceGroupId"] = resource_group_id
    return item


def _event(
    message_type: str,
    item: dict[str, Any] | None,
    *,
    account_id: str,
    rule_parameters: dict[str, Any] | None,
    result_token: str,
    configuration_type: str,
) -> dict[str, Any]:
    invoking: dict[str, Any] = {
        "messageType": message_type,
        "configurationType": configuration_type,
        "accountId": int(account_id) if account_id.isdigit() else account_id,
        "notificationCreationTimestamp": ORDERING_TIMESTAMP - 10,
    }
    if item is not None:
        invoking["configurationItem"] = item
    return {
        "orderingTimestamp": ORDERING_TIMESTAMP,
        "invokingEvent": invoking,
        "ruleParameters": dict(rule_parameters or {}),
        "resultToken": result_token,
    }


def change_event(
    resource_type: str,
    resource_id: str,
    configuration: Any = None,
    *,
    region: str = "cn-hangzhou",
    account_id: str = DEFAULT_ACCOUNT_ID,
    tags: Any = None,
    name: str | None = None,
    resource_group_id: str | None = None,
    status: str = "Running",
    rule_parameters: dict[str, Any] | None = None,
    result_token: str = TEST_RESULT_TOKEN,
    configuration_type: str = "COMMON",
) -> dict[str, Any]:
    """A ConfigurationItemChangeNotification for one resource (OVERSIZE leaves the
    configuration out, as the platform does)."""
    item = _item(
        resource_type,
        resource_id,
        configuration,
        region=region,
        account_id=account_id,
        tags=tags,
        name=name,
        resource_group_id=resource_group_id,
        status=status,
    )
    if configuration_type == "OVERSIZE":
        item.pop("configuration")
    return _event(
        CHANGE_NOTIFICATION,
        item,
        account_id=account_id,
        rule_parameters=rule_parameters,
        result_token=result_token,
        configuration_type=configuration_type,
    )


def scheduled_event(
    resource_type: str | None = None,
    resource_id: str | None = None,
    configuration: Any = None,
    *,
    region: str = "cn-hangzhou",
    account_id: str = DEFAULT_ACCOUNT_ID,
    tags: Any = None,
    rule_parameters: dict[str, Any] | None = None,
    result_token: str = TEST_RESULT_TOKEN,
) -> dict[str, Any]:
    """A ScheduledNotification: with one configuration item (the documented sample) when a
    resource is given, without one (a sweep of the account) otherwise."""
    item = None
    if resource_type is not None and resource_id is not None:
        item = _item(
            resource_type,
            resource_id,
            configuration,
            region=region,
            account_id=account_id,
            tags=tags,
            name=None,
            resource_group_id=None,
            status="Running",
        )
    return _event(
        SCHEDULED_NOTIFICATION,
        item,
        account_id=account_id,
        rule_parameters=rule_parameters,
        result_token=result_token,
        configuration_type="COMMON" if item else "NONE",
    )


def sample_event(name: str = "change-ecs-instance") -> dict[str, Any]:
    """A sample event shipped with rulekit (``rulekit/testing/_events/<name>.json``)."""
    text = (
        resources.files("rulekit.testing").joinpath("events").joinpath(f"{name}.json").read_text()
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def FCContext(
    credentials: Credentials | None = None,
    *,
    region: str = "cn-hangzhou",
    timeout: float = 60,
    request_id: str = "rulekit-test-request",
    account_id: str = DEFAULT_ACCOUNT_ID,
    with_credentials: bool = True,
) -> Any:
    """An object shaped like FC's Python context. ``with_credentials=False`` mimics the
    Python 3.12 runtime, which passes credentials only through the environment."""
    ctx = SimpleNamespace(
        request_id=request_id,
        region=region,
        account_id=account_id,
        function=SimpleNamespace(
            name="rulekit", handler="index.handler", memory=512, timeout=timeout
        ),
        service=SimpleNamespace(name="rulekit", log_project="", log_store=""),
    )
    if with_credentials and credentials is not None:
        ctx.credentials = SimpleNamespace(
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token,
        )
    return ctx
