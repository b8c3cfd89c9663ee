"""Function Compute 3.0's InvokeFunction (API 2023-03-30), asynchronous: how a chained sweep hands
what is left to a new invocation of its own function (docs/sweeps.md, "Past one invocation's
time limit").

The request (FC API reference "InvokeFunction"; the official model alibabacloud-fc20230330):
``POST /2023-03-30/functions/{name}/invocations[?qualifier=...]`` with ``x-fc-invocation-type:
Async``, the event as the raw body; FC answers 202 once it has stored the event. FC is
ROA-style and signed with ACS3-HMAC-SHA256, not the RPC signature aliyun-python-sdk-core uses for
Config, so this module signs as the official SDK (alibabacloud-tea-openapi) does: hex SHA-256 of
a canonical request (method, path, sorted query, every sent header lower-cased and sorted,
signed-header list, payload hash), HMAC-SHA256 with the secret. tests/test_fc_invoke.py holds it
equal to the SDK's ``get_authorization`` and has the SDK itself call the emulator.

Example::

    fc = FunctionApi(credentials, "1234.cn-hangzhou.fc.aliyuncs.com")
    fc.invoke_async("rulekit", b'{"resultToken": ...}', task_id="rulekit-c0ffee-2")
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit

from . import _http, _redact
from ._api import RetryPolicy, is_retryable
from ._credentials import Credentials
from ._deadline import Deadline
from ._errors import ApiError

__all__ = ["FC_API_VERSION", "MAX_ASYNC_PAYLOAD", "FunctionApi", "authorization"]

log = logging.getLogger("rulekit.fc")

FC_API_VERSION = "2023-03-30"
#: FC refuses a larger asynchronous payload (EntityTooLarge; research16.md §3.2).
MAX_ASYNC_PAYLOAD = 128 * 1024
SIGN_TYPE = "ACS3-HMAC-SHA256"


def canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """(canonical request, signed headers) exactly as alibabacloud-tea-openapi builds them."""
    canonical_query = "&".join(
        f"{key}={quote(query[key], safe='~')}" for key in sorted(query) if query[key] is not None
    )
    lowered: dict[str, list[str]] = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), []).append(str(value).strip())
    names = sorted(lowered)
    canonical_headers = "".join(f"{n}:{','.join(sorted(lowered[n]))}\n" for n in names)
    signed = ";".join(names)
    text = f"{method}\n{path or '/'}\n{canonical_query}\n{canonical_headers}\n{signed}\n"
    return text + payload_hash, signed


def authorization(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_hash: str,
    credentials: Credentials,
) -> str:
    """The ``Authorization`` header for a request whose other headers are ``headers``."""
    canonical, signed = canonical_request(method, path, query, headers, payload_hash)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    signature = hmac.new(
        credentials.access_key_secret.encode("utf-8"),
        f"{SIGN_TYPE}\n{digest}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return (
        f"{SIGN_TYPE} Credential={credentials.access_key_id},"
        f"SignedHeaders={signed},Signature={signature}"
    )


class FunctionApi:
    """InvokeFunction at ``endpoint`` (a host: HTTPS, or an ``http://`` URL: the emulator)."""

    def __init__(
        self,
        credentials: Credentials,
        endpoint: str,
        *,
        retry: RetryPolicy | None = None,
        deadline: Deadline | None = None,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        split = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        self.credentials = credentials
        self.endpoint = endpoint
        self._host = split.netloc  # signed as the host header
        self.retry = retry or RetryPolicy()
        self.deadline = deadline or Deadline(None)
        self.timeout = timeout
        self._sleep = sleep
        self._rng = random.Random()

    def invoke_async(
        self,
        function: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        task_id: str | None = None,
    ) -> bool:
        """Queue one asynchronous invocation of ``function`` with ``payload``. True: FC took
        it (202); False: FC already holds a task with ``task_id`` (409, async task mode), i.e.
        this hand-over was made before (a re-run invocation). Raises :class:`ApiError`."""
        if len(payload) > MAX_ASYNC_PAYLOAD:
            raise ApiError(
                f"InvokeFunction payload is {len(payload)} bytes; FC takes at most "
                f"{MAX_ASYNC_PAYLOAD} asynchronously",
                action="InvokeFunction",
                code="EntityTooLarge",
            )
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(function, payload, qualifier, task_id)
            except ApiError as error:
                error.attempts = attempt
                wait = self.retry.delay(attempt, self._rng)
                if (
                    not error.retryable
                    or attempt >= self.retry.max_attempts
                    or self.deadline.remaining() < wait + min(self.timeout, 2.0)
                ):
                    raise
                log.info("FC.InvokeFunction failed with %s; retrying in %.2fs", error.code, wait)
                self._sleep(wait)

    def _once(
        self, function: str, payload: bytes, qualifier: str | None, task_id: str | None
    ) -> bool:
        path = f"/{FC_API_VERSION}/functions/{quote(function, safe='')}/invocations"
        query = {"qualifier": qualifier} if qualifier else {}
        creds = self.credentials
        headers = {
            "host": self._host,
            "x-acs-version": FC_API_VERSION,
            "x-acs-action": "InvokeFunction",
            "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "x-acs-content-sha256": hashlib.sha256(payload).hexdigest(),
            "accept": "application/json",
            "content-type": "application/octet-stream",
            "x-fc-invocation-type": "Async",
            "x-acs-accesskey-id": creds.access_key_id,
        }
        if task_id:
            headers["x-fc-async-task-id"] = task_id
        if creds.security_token:
            headers["x-acs-security-token"] = creds.security_token
        headers["Authorization"] = authorization(
            "POST", path, query, headers, headers["x-acs-content-sha256"], creds
        )
        target = path + ("?qualifier=" + quote(qualifier, safe="~") if qualifier else "")
        # The same opener as every other API call: HTTPS verified against the same CA store
        # (ALIBABA_CLOUD_CA_BUNDLE included). One hand-over per invocation: no connection kept.
        connection = _http.open_connection(self.endpoint)
        connection.timeout = max(0.05, min(self.timeout, self.deadline.remaining()))
        try:
            connection.request("POST", target, body=payload, headers=headers)
            response = connection.getresponse()
            status, body = response.status, response.read()
            request_id = response.getheader("x-fc-request-id")
        except (OSError, http.client.HTTPException) as exc:
            raise _error("SDK.HttpError", None, f"{type(exc).__name__}: {exc}", None) from None
        finally:
            connection.close()
        if status == 202:
            return True
        if status == 409 and task_id:
            return False
        code, message = _code(body)
        raise _error(code or f"HTTP{status}", status, message, request_id)


def _code(body: bytes) -> tuple[str | None, str]:
    import json

    try:
        decoded = json.loads(body)
    except ValueError:
        return None, _redact.shown(body[:200])
    if not isinstance(decoded, dict):
        return None, _redact.shown(decoded)
    return str(decoded.get("Code") or decoded.get("code") or "") or None, str(
        decoded.get("Message") or decoded.get("message") or ""
    )


def _error(code: str, status: int | None, message: str, request_id: str | None) -> ApiError:
    where = f" (HTTP {status})" if status else ""
    rid = f"; request id {request_id}" if request_id else ""
    return ApiError(
        f"InvokeFunction failed: {code}{where}: {_redact.redact(message)[:300]}{rid}",
        action="InvokeFunction",
        code=code,
        status=status,
        request_id=request_id,
        retryable=is_retryable(code, status) or status == 429,
    )
