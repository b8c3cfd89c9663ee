"""The Function Compute entry point: set the function's handler to ``rulekit.handler.handler``.

Configuration (environment variables of the function):

- ``RULEKIT_RULES``: comma-separated import paths of the rule modules to load.
- ``RULEKIT_RULE``: the rule to run when several are loaded (otherwise the rule named like the
  event's Config rule, or the only one).
- ``RULEKIT_CONFIG_ENDPOINT`` / ``RULEKIT_ENDPOINT``: endpoint overrides (docs/delivery.md).
- ``RULEKIT_API_TIMEOUT`` (seconds, default 10), ``RULEKIT_MAX_ATTEMPTS`` (default 5),
  ``RULEKIT_RETRY_BASE_DELAY`` / ``RULEKIT_RETRY_MAX_DELAY`` (seconds, default 0.2 / 5).

Credentials come from ``context.credentials`` (Python 3.10 runtimes) or the
``ALIBABA_CLOUD_*`` environment variables (Python 3.12). Any error is raised, so FC records the
invocation as failed (and retries an asynchronous one): a broken rule never looks like
"no results".

Example (what FC does)::

    from rulekit.handler import handler
    summary = handler(event_bytes, context)     # {'rule': ..., 'delivered': 1, ...}
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from . import _redact
from .api import ApiClient
from .calls import CloudApi
from .config_api import ConfigApi
from .credentials import Credentials, resolve_credentials
from .deadline import Deadline
from .delivery import ConfigSink
from .directory import DirectoryFolders
from .dispatcher import Dispatcher
from .endpoints import resolve_endpoint
from .event import decode_event
from .loader import RuleSet
from .settings import Settings

__all__ = ["handler", "run"]

log = logging.getLogger("rulekit.handler")

# Warm FC instances reuse these: rule modules are imported once per RULEKIT_RULES value, and
# the SDK client (and its keep-alive connection) once per credential set and settings.
_rules_cache: dict[tuple[str, ...], RuleSet] = {}
_client_cache: dict[tuple[object, ...], ApiClient] = {}


def _rules(settings: Settings) -> RuleSet:
    rules = _rules_cache.get(settings.rules)
    if rules is None:
        rules = _rules_cache[settings.rules] = RuleSet.from_modules(settings.rules)
    return rules


def _client(
    credentials: Credentials, region: str, deadline: Deadline, settings: Settings
) -> ApiClient:
    key = (
        credentials.access_key_id,
        credentials.security_token,
        region,
        settings.retry,
        settings.api_timeout,
    )
    client = _client_cache.get(key)
    if client is None:
        _client_cache.clear()  # rotated STS credentials: drop the old client
        client = ApiClient(
            credentials, region_id=region, retry=settings.retry, timeout=settings.api_timeout
        )
        _client_cache[key] = client
    client.deadline = deadline
    return client


def run(
    event: Any,
    context: Any = None,
    *,
    environ: Mapping[str, str] | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """The handler's work with an explicit environment (tests, ``rulekit invoke``)."""
    env = os.environ if environ is None else environ
    started = time.monotonic() if started is None else started
    _redact.install()
    settings = Settings.from_env(env)
    deadline = Deadline.from_context(context, started=started)
    rules = _rules(settings)
    decoded = decode_event(event)
    dispatcher = Dispatcher(
        rules, deadline=deadline, requested_rule=settings.rule, sweep=settings.sweep
    )
    prepared = dispatcher.prepare(decoded)  # bad rule selection, scope or params: nothing sent
    credentials = resolve_credentials(context, env)
    region = (
        getattr(context, "region", None)
        or env.get("FC_REGION")
        or (decoded.resource.region if decoded.resource else None)
        or "cn-hangzhou"
    )
    client = _client(credentials, str(region), deadline, settings)
    config = ConfigApi(client, resolve_endpoint("Config", client.region_id, env))
    dispatcher.config = config
    dispatcher.api = CloudApi(client, environ=env)
    if prepared.scope.needs_folders:
        dispatcher.folders = DirectoryFolders(
            client, resolve_endpoint("ResourceManager", client.region_id, env)
        )
    result = dispatcher.dispatch(
        decoded,
        sink=ConfigSink(config, decoded.result_token),
        fc_context=context,
        prepared=prepared,
    )
    return result.to_dict()


def handler(event: Any, context: Any) -> dict[str, Any]:
    """FC entry point. ``event`` is bytes (FC), str or a dict; returns the invocation summary."""
    return run(event, context, started=time.monotonic())
