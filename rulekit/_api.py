"""Calls to Alibaba Cloud RPC APIs through aliyun-python-sdk-core, with rulekit's retry policy.

The SDK never retries PutEvaluations itself, lets env ``ALIYUN_ACCESS_KEY_*`` silently replace
the credential it is given, and logs request URLs (with ``SecurityToken``) at DEBUG. This module
is the one place that deals with all three: retries are ours (throttling, 5xx and transport
errors, exponential backoff with jitter, bounded by attempts and by the invocation's deadline),
the signer is pinned to the credential passed in, and log records are scrubbed (``_redact``).

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
from typing import Any, NamedTuple

from . import _redact
from ._credentials import Credentials
from ._deadline import Deadline
from ._errors import ApiError
from ._pacing import Pacing, is_throttled

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
_URL_IN_MESSAGE = re.compile(r"with url: \S+")
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
    """One SDK client per credential set; ``call`` sends one RPC action with retries."""

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
        # SDK clients not in use. A call takes one (or builds one) and puts it back: concurrent
        # calls (a sweep's fetches) never share one's HTTP session, and reuse does not depend on
        # the thread, since a runtime may serve each invocation on a new one. Building one costs
        # ~1 ms, and its session keeps the TLS connection to the endpoint alive.
        self._idle: list[Any] = []
        self._idle_lock = threading.Lock()

    def under(self, deadline: Deadline) -> ApiClient:
        """This client, bound to one invocation's deadline. It shares everything else, including
        the pool of SDK clients and their kept-alive connections, so a warm instance keeps one
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

    def _take_sdk(self) -> Any:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return _make_sdk_client(
            self.credentials, self.region_id, self.timeout, self.connect_timeout
        )

    def _give_back(self, sdk: Any) -> None:
        with self._idle_lock:
            self._idle.append(sdk)

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
        from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
        from aliyunsdkcore.request import CommonRequest

        request = CommonRequest(
            domain=endpoint, version=version, action_name=action, product=product
        )
        request.set_method("POST")
        request.set_protocol_type("https")
        request.set_accept_format("JSON")
        remaining = self.deadline.remaining()
        request.set_read_timeout(max(0.05, min(self.timeout, remaining)))
        request.set_connect_timeout(max(0.05, min(self.connect_timeout, remaining)))
        for key, value in params.items():
            if value is None:
                continue
            text = _param(value)
            if not text.isascii() and _SURROGATE.search(text):  # the SDK would raise mid-send
                raise _error(
                    action,
                    "InvalidParameter.Encoding",
                    None,
                    f"parameter {key} holds a lone surrogate: UTF-8 cannot carry it",
                    None,
                )
            if key == "RegionId":
                # In the query, where the SDK looks before adding the client's own region:
                # otherwise the request would carry two different RegionIds.
                request.add_query_param(key, text)
            else:
                request.add_body_params(key, text)
        sdk = self._take_sdk()
        try:
            body = sdk.do_action_with_exception(request)
        except ServerException as exc:
            code = str(exc.get_error_code() or "UnknownError")
            status = exc.get_http_status()
            raise _error(action, code, status, exc.get_error_msg(), exc.get_request_id()) from None
        except ClientException as exc:
            code = str(exc.get_error_code() or "SDK.ClientError")
            raise _error(action, code, None, exc.get_error_msg(), None) from None
        finally:
            # Back in the pool even after an error: its requests session drops a broken
            # connection itself, and keeps live ones (and their TLS) for the next invocation.
            self._give_back(sdk)
        try:
            decoded = json.loads(body)
        except (ValueError, TypeError):
            raise _error(
                action,
                "InvalidResponse",
                None,
                f"response is not JSON: {_redact.shown(body)}",
                None,
            ) from None
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
    # Transport errors quote the whole request URL; the cause after it is what helps.
    text = _URL_IN_MESSAGE.sub("with url: /?…", _redact.redact(str(message or "")))
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


def _make_sdk_client(
    credentials: Credentials, region_id: str, timeout: float, connect_timeout: float
) -> Any:
    from aliyunsdkcore.client import AcsClient

    # The SDK logs each failed attempt at ERROR before rulekit has decided to retry it; rulekit
    # logs the outcome itself, with context. Its records are scrubbed either way (_redact).
    logging.getLogger("aliyunsdkcore.client").setLevel(logging.CRITICAL)
    if credentials.security_token is None:
        # ak/secret passed directly take precedence over env ALIYUN_ACCESS_KEY_* in the SDK.
        return AcsClient(
            ak=credentials.access_key_id,
            secret=credentials.access_key_secret,
            region_id=region_id,
            auto_retry=False,
            timeout=timeout,
            connect_timeout=connect_timeout,
        )
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.auth.signers.sts_token_signer import StsTokenSigner

    credential = StsTokenCredential(
        credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    )
    client = AcsClient(
        region_id=region_id,
        credential=credential,
        auto_retry=False,
        timeout=timeout,
        connect_timeout=connect_timeout,
    )
    # The SDK's SignerFactory prefers env ALIYUN_ACCESS_KEY_ID/SECRET over an explicit STS
    # credential; pin the signer so the function's own role is what signs (tested).
    client._signer = StsTokenSigner(credential)
    return client
