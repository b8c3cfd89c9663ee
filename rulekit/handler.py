"""The Function Compute entry point: set the function's handler to ``rulekit.handler.handler``.

Configuration (environment variables of the function, read on every invocation):

- ``RULEKIT_RULES``: comma-separated import paths of the rule modules to load.
- ``RULEKIT_RULE``: the rule to run when several are loaded (otherwise the rule named like the
  event's Config rule, or the only one).
- ``RULEKIT_CONFIG_ENDPOINT`` / ``RULEKIT_ENDPOINT``: endpoint overrides (docs/delivery.md).
- ``RULEKIT_API_TIMEOUT`` (seconds, default 10), ``RULEKIT_MAX_ATTEMPTS`` (default 5),
  ``RULEKIT_RETRY_BASE_DELAY`` / ``RULEKIT_RETRY_MAX_DELAY`` (seconds, default 0.2 / 5).
- ``RULEKIT_CONTINUE``: a sweep left unfinished at the deadline continues in a new
  asynchronous invocation of this function (docs/sweeps.md).
- ``RULEKIT_<PRODUCT>_RATE_LIMIT``: requests per second for each action (docs/sweeps.md).

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
from typing import TYPE_CHECKING, Any

from . import _redact
from ._api import ApiClient
from ._calls import AssumedClients, CloudApi
from ._config_api import ConfigApi
from ._credentials import Credentials, resolve_credentials
from ._deadline import Deadline
from ._directory import DirectoryFolders, FolderCache
from ._dispatcher import Dispatcher, prepare
from ._endpoints import resolve_endpoint
from ._errors import CredentialsError
from ._event import ConfigEvent, decode_event
from ._plugins import ENV_LOAD_PLUGINS, Plugins
from ._settings import Settings

if TYPE_CHECKING:
    from ._continuation import Chain, Invoker

__all__ = ["handler", "run"]

log = logging.getLogger("rulekit.handler")

# Warm FC instances reuse these: plugins and rule modules are loaded once per setting, and the
# SDK client (and its keep-alive connection) once per credential set and settings.
_plugins_cache: dict[tuple[object, ...], Plugins] = {}
_client_cache: dict[tuple[object, ...], ApiClient] = {}
_assumed_cache: AssumedClients = {}  # member-account clients, for as long as the base client
_folders_cache: dict[str, FolderCache] = {}  # by endpoint: folder lookups outlive a call


def _plugins(env: Mapping[str, str]) -> Plugins:
    key = (env.get("RULEKIT_RULES", ""), env.get(ENV_LOAD_PLUGINS))
    plugins = _plugins_cache.get(key)
    if plugins is None:
        plugins = _plugins_cache[key] = Plugins.from_env(env)
    return plugins


def _client(
    credentials: Credentials, region: str, deadline: Deadline, settings: Settings
) -> ApiClient:
    key = (
        credentials.access_key_id,
        credentials.security_token,
        region,
        settings.retry,
        settings.api_timeout,
        settings.rate_limits,
    )
    client = _client_cache.get(key)
    if client is None:
        _client_cache.clear()  # rotated STS credentials: drop the old client
        _assumed_cache.clear()
        _folders_cache.clear()
        client = ApiClient.from_settings(credentials, settings, region)
        _client_cache[key] = client
    # A view, not the cached client with its deadline reset: invocations may run at once.
    return client.under(deadline)


def run(
    event: Any,
    context: Any = None,
    *,
    environ: Mapping[str, str] | None = None,
    started: float | None = None,
    plugins: Plugins | None = None,
) -> dict[str, Any]:
    """The handler's work with an explicit environment (tests, ``rulekit invoke``).

    ``plugins`` replaces the ones the environment names (the CLI passes its own).
    """
    env = os.environ if environ is None else environ
    started = time.monotonic() if started is None else started
    _redact.install()
    settings = Settings.from_env(env)
    deadline = Deadline.from_context(context, started=started)
    plugins = plugins or _plugins(env)
    decoded = decode_event(event)
    chain = _chain(decoded, settings)  # a malformed continuation fails here, before any work
    # Its result token stays masked until the invocation ends, however many others start.
    with _redact.holding(decoded.result_token):
        return _invoke(decoded, context, env, settings, deadline, plugins, chain)


def _invoke(
    decoded: ConfigEvent,
    context: Any,
    env: Mapping[str, str],
    settings: Settings,
    deadline: Deadline,
    plugins: Plugins,
    chain: Chain | None = None,
) -> dict[str, Any]:
    # bad rule selection, scope or parameters: nothing is sent, no client is built
    prepared = prepare(plugins.rules, decoded, settings.rule)
    no_credentials: CredentialsError | None = None
    try:
        credentials: Credentials | None = resolve_credentials(context, env)
    except CredentialsError as exc:
        # fine if a plugin supplies a sink that needs none (rulekit invoke); raised otherwise
        credentials, no_credentials = None, exc
    config: ConfigApi | None = None
    api: CloudApi | None = None
    folders: DirectoryFolders | None = None
    if credentials is not None:
        region = (
            getattr(context, "region", None)
            or env.get("FC_REGION")
            or (decoded.resource.region if decoded.resource else None)
            or "cn-hangzhou"
        )
        client = _client(credentials, str(region), deadline, settings)
        config = ConfigApi(client, resolve_endpoint("Config", client.region_id, env))
        api = CloudApi(client, environ=env, assumed=_assumed_cache)
        if prepared.scope.needs_folders:
            endpoint = resolve_endpoint("ResourceManager", client.region_id, env)
            folders = DirectoryFolders(
                client, endpoint, cache=_folders_cache.setdefault(endpoint, {})
            )
    if chain is not None and settings.sweep.continue_sweep and credentials is not None:
        chain.invoker = _invoker(context, env, credentials, deadline, settings)
    sink = plugins.hook.rulekit_delivery_sink(event=decoded, config=config)
    if sink is None:  # the built-in sink needs a Config client, so credentials were missing
        raise no_credentials or CredentialsError("no delivery sink and no credentials")
    dispatcher = Dispatcher(
        plugins.rules,
        config=config,
        folders=folders,
        deadline=deadline,
        requested_rule=settings.rule,
        api=api,
        sweep=settings.sweep,
        hooks=plugins.hook,
        chain=chain,
    )
    result = dispatcher.dispatch(decoded, sink=sink, fc_context=context, prepared=prepared)
    return result.to_dict()


def _chain(decoded: ConfigEvent, settings: Settings) -> Chain | None:
    """A periodic sweep's place in a chain: only with RULEKIT_CONTINUE or for a continuation
    event (the chain module is not imported otherwise: the change path stays lean)."""
    if not decoded.continuation and not (
        decoded.resource is None and settings.sweep.continue_sweep
    ):
        return None
    from ._continuation import Chain, read_continuation

    return Chain(decoded, read_continuation(decoded), settings.sweep, None)


def _invoker(
    context: Any,
    env: Mapping[str, str],
    credentials: Credentials,
    deadline: Deadline,
    settings: Settings,
) -> Invoker:
    from ._continuation import invoker_for
    from ._fc_api import FunctionApi

    return invoker_for(
        context,
        env,
        lambda endpoint: FunctionApi(
            credentials,
            endpoint,
            retry=settings.retry,
            deadline=deadline,
            timeout=settings.api_timeout,
        ),
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    """FC entry point. ``event`` is bytes (FC), str or a dict; returns the invocation summary."""
    return run(event, context, started=time.monotonic())
