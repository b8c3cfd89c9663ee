"""Calls to Alibaba Cloud RPC APIs, signed as aliyun-python-sdk-core signs them, with rulekit's
retry policy.

Requests are signed by ``_signing`` (proven identical to the SDK's for generated inputs) and sent
over kept-alive ``http.client`` connections (``_http``): a third of the SDK stack's CPU per call
and none of its ~200 ms import (docs/performance.md). Retries are ours (throttling, 5xx and
transport errors, exponential backoff with jitter, bounded by attempts and by the invocation's
deadline), a retry is signed afresh, only the credential passed in signs, and log records are
scrubbed (``_redact``): the request URL carries ``SecurityToken``.

Example::

    client = ApiClient(resolve_credentials(context), region_id="cn-hangzhou")
    body = client.call("GetDiscoveredResource", {"ResourceId": "i-1", ...},
                       product="Config", version="2020-09-07",
                       endpoint="config.cn-shanghai.aliyuncs.com")
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _redact
from ._credentials import Credentials
from ._deadline import Deadline
from ._errors import ApiError
from ._pacing import Pacing, is_throttled

if TYPE_CHECKING:
    from ._http import Connections
    from ._settings import Settings

__all__ = ["ApiClient", "RetryPolicy", "is_retryable"]

log = logging.getLogger("rulekit.api")

_RETRYABLE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "InternalError",
        "UnknownError",
        "SDK.HttpError",
        "SDK.ServerUnreachable",
    }
)
_MESSAGE_LIMIT = 300
_SURROGATE = re.compile("[\ud800-\udfff]")


class RetryPolicy(NamedTuple):
    """Exponential backoff with equal jitter: the n-th retry waits between d/2 and d, where
    d = min(max_delay, base_delay * 2**(n-1)). ``max_attempts`` counts the first try."""

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, retry: int, rng: random.Random) -> float:
        cap = min(self.max_delay, self.base_delay * float(2 ** max(0, retry - 1)))
        return cap / 2 + rng.uniform(0, cap / 2)


def is_retryable(code: str, status: int | None) -> bool:
    """Throttling*, 5xx and transport failures are retried; other 4xx are final."""
    if is_throttled(code) or code in _RETRYABLE_CODES:
        return True
    return status is not None and status >= 500


class ApiClient:
    """One client per credential set; ``call`` sends one RPC action with retries."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        region_id: str = "cn-hangzhou",
        retry: RetryPolicy | None = None,
        deadline: Deadline | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        rate_limits: Mapping[str, float] | None = None,
    ) -> None:
        _redact.install()
        self.credentials = credentials
        self.region_id = region_id
        self.retry = retry or RetryPolicy()
        self.deadline = deadline or Deadline(None)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._sleep = sleep
        self._rng = rng or random.Random()
        # One pace per action, shared by the views of this client (``under``): the platform's
        # quota is the account's, however many threads and invocations call (_pacing).
        self.pacing = Pacing(rate_limits)
        # Connection sets not in use. A call takes one (or builds one) and puts it back:
        # concurrent calls (a sweep's fetches) never share a connection, and reuse does not
        # depend on the thread, since a runtime may serve each invocation on a new one. Each
        # keeps its TLS connections to the endpoints alive for the next call.
        self._idle: list[Connections] = []
        self._idle_lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, credentials: Credentials, settings: Settings, region_id: str
    ) -> ApiClient:
        """A client with the retry policy, timeout and rate limits the ``RULEKIT_*`` settings
        give, as the handler and the command line build it.

        Example::

            client = ApiClient.from_settings(credentials, Settings.from_env(), "cn-shanghai")
        """
        return cls(
            credentials,
            region_id=region_id,
            retry=settings.retry,
            timeout=settings.api_timeout,
            rate_limits=dict(settings.rate_limits),
        )

    def under(self, deadline: Deadline) -> ApiClient:
        """This client, bound to one invocation's deadline. It shares everything else, including
        the pool of kept-alive connections, so a warm instance keeps one
        client per credential set while invocations running at once (FC instance concurrency)
        each retry within their own time.

        Example::

            client = ApiClient(credentials)          # once per warm instance
            client.under(Deadline.from_context(context)).call(...)
        """
        view = object.__new__(ApiClient)
        view.__dict__.update(self.__dict__)
        view.deadline = deadline
        return view

    def _take(self) -> Connections:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return _new_connections()

    def _give_back(self, connections: Connections) -> None:
        with self._idle_lock:
            self._idle.append(connections)

    def call(
        self, action: str, params: Mapping[str, Any], *, product: str, version: str, endpoint: str
    ) -> dict[str, Any]:
        """Send ``action`` and return the decoded JSON body; raise :class:`ApiError` when it
        fails for good. ``params`` go in the POST body (values are stringified)."""
        attempt = 0
        pace = self.pacing.of(product, action)
        while True:
            attempt += 1
            ticket = pace.admit(self.deadline, sleep=self._sleep, action=action)
            try:
                body = self._once(action, params, product, version, endpoint)
            except ApiError as error:
                if is_throttled(error.code):
                    pace.throttled(ticket)  # the next attempts, and the other threads', slow down
                error.attempts = attempt
                if not error.retryable or attempt >= self.retry.max_attempts:
                    raise
                wait = self.retry.delay(attempt, self._rng)
                # Leave room for the retried request itself, or give up now and say why.
                if self.deadline.remaining() < wait + min(self.timeout, 2.0):
                    error.args = (
                        f"{error.args[0]}; not retried: the invocation's remaining "
                        f"time ({self.deadline.remaining():.1f}s) is too short",
                    )
                    raise
                log.info(
                    "%s.%s failed with %s (attempt %d/%d); retrying in %.2fs",
                    product,
                    action,
                    error.code,
                    attempt,
                    self.retry.max_attempts,
                    wait,
                )
                self._sleep(wait)
            else:
                pace.succeeded(ticket)
                return body

    def _once(
        self, action: str, params: Mapping[str, Any], product: str, version: str, endpoint: str
    ) -> dict[str, Any]:
        # Imported on the first call: http.client (email, ssl) is ~25 ms of a cold start that
        # `rulekit test`, which makes no call, does not pay.
        from http.client import HTTPException

        from ._signing import signed_request

        form: dict[str, str] = {}
        for key, value in params.items():
            if value is None:
                continue
            text = _param(value)
            if not text.isascii() and _SURROGATE.search(text):  # UTF-8 would fail mid-send
                raise _error(
                    action,
                    "InvalidParameter.Encoding",
                    None,
                    f"parameter {key} holds a lone surrogate: UTF-8 cannot carry it",
                    None,
                )
            form[key] = text
        # Signed per attempt: a retry carries a fresh nonce and timestamp, as the SDK's do.
        request = signed_request(action, version, form, self.credentials, region_id=self.region_id)
        if log.isEnabledFor(logging.DEBUG):  # the URL holds SecurityToken: scrubbed (_redact)
            log.debug("POST %s%s", endpoint, request.path)
        remaining = self.deadline.remaining()
        connections = self._take()
        try:
            status, body = connections.post(
                endpoint,
                request,
                connect_timeout=max(0.05, min(self.connect_timeout, remaining)),
                read_timeout=max(0.05, min(self.timeout, remaining)),
            )
        except (OSError, HTTPException) as exc:
            # Refused, reset, dropped or timed out: the code the SDK gave these, retryable.
            raise _error(action, "SDK.HttpError", None, _transport_cause(exc), None) from None
        finally:
            # Back in the pool even after an error: the failed connection is closed, the
            # others (and their TLS) stay for the next invocation.
            self._give_back(connections)
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if not 200 <= status < 300:
            answer = decoded if isinstance(decoded, dict) else {}
            raise _error(
                action,
                str(answer.get("Code") or "SDK.UnknownServerError"),
                status,
                answer.get("Message") or f"ServerResponseBody: {_redact.shown(body)}",
                answer.get("RequestId"),
            )
        if decoded is None:
            raise _error(
                action,
                "InvalidResponse",
                None,
                f"response is not JSON: {_redact.shown(body)}",
                None,
            )
        if not isinstance(decoded, dict):
            raise _error(action, "InvalidResponse", None, "response is not a JSON object", None)
        return decoded


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _error(
    action: str, code: str, status: int | None, message: Any, request_id: str | None
) -> ApiError:
    text = _redact.redact(str(message or ""))
    if len(text) > _MESSAGE_LIMIT:
        text = text[:_MESSAGE_LIMIT] + "…"
    where = f" (HTTP {status})" if status else ""
    rid = f"; request id {request_id}" if request_id else ""
    return ApiError(
        f"{action} failed: {code}{where}: {text}{rid}",
        action=action,
        code=code,
        status=status,
        request_id=request_id,
        retryable=is_retryable(code, status),
    )


def _transport_cause(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out waiting for the endpoint"
    return f"{type(exc).__name__}: {exc}"


def _new_connections() -> Connections:
    """A pooled set of kept-alive connections, for one request at a time."""
    from ._http import Connections

    return Connections()
