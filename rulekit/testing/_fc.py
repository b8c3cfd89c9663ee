"""The emulator's Function Compute 3.0 side: asynchronous InvokeFunction, the call a chained sweep
makes to hand what is left to a new invocation of its own function.

It verifies the request as FC's gateway does (ACS3-HMAC-SHA256 signature over the headers the
request lists as signed, body hash, date, nonce, STS token; research16.md §3.4, reproduced here
apart from rulekit's own signer and checked against the official SDK in tests/test_fc_invoke.py),
refuses payloads over 128 KB, answers 202 and queues the event. Nothing runs by itself: the test
runs the queued links with :meth:`FunctionService.drain`, one after another, as FC would.

Example::

    with ConfigEmulator() as emulator:
        env = emulator.environ(RULEKIT_CONTINUE="1")
        summary = run(scheduled_event(), FCContext(), environ=env)
        emulator.fc.drain(lambda payload: run(payload, FCContext(), environ=env))
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._faults import ApiCallError

if TYPE_CHECKING:
    from ._emulator import ConfigEmulator

__all__ = ["FC_PATH_PREFIX", "FunctionInvocation", "FunctionService"]

FC_PATH_PREFIX = "/2023-03-30/functions/"
_PATH = re.compile(r"/2023-03-30/functions/([A-Za-z_][A-Za-z0-9_-]{0,127})/invocations")
_AUTH = re.compile(
    r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})"
)
_TASK_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
MAX_ASYNC_PAYLOAD = 128 * 1024
_MAX_CLOCK_SKEW = 15 * 60
_SHA = "x-acs-content-sha256"


@dataclass
class FunctionInvocation:
    """One InvokeFunction request FC accepted (202) or refused."""

    function: str
    payload: bytes
    qualifier: str | None = None
    task_id: str | None = None
    status: int = 202
    code: str | None = None
    at: float = field(default_factory=time.time)
    #: The request's headers, names lower-cased (Authorization and the token left out).
    headers: dict[str, str] = field(default_factory=dict, repr=False)


class FunctionService:
    """FC as the emulator serves it: ``functions`` that may be invoked, ``task_mode`` (FC's async
    task mode: a repeated ``x-fc-async-task-id`` is refused with 409), what was invoked
    (``invocations``) and what is queued to run (``pending``)."""

    def __init__(self, owner: ConfigEmulator) -> None:
        self.owner = owner
        self.functions: set[str] = {"rulekit"}
        self.task_mode = True
        self.invocations: list[FunctionInvocation] = []
        self.pending: deque[FunctionInvocation] = deque()
        self._tasks: set[str] = set()

    def reset(self) -> None:
        self.invocations.clear()
        self.pending.clear()
        self._tasks.clear()

    @property
    def accepted(self) -> list[FunctionInvocation]:
        return [i for i in self.invocations if i.status == 202]

    def drain(self, run_link: Callable[[bytes], Any], *, limit: int = 1000) -> list[Any]:
        """Run the queued invocations in order (each may queue the next) until none is left;
        returns what each run returned. ``limit`` stops a runaway chain."""
        results: list[Any] = []
        while self.pending:
            if len(results) >= limit:
                raise RuntimeError(f"more than {limit} chained invocations")
            results.append(run_link(self.pending.popleft().payload))
        return results

    def serve(
        self, method: str, path: str, query: Mapping[str, str], headers: Any, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request: (HTTP status, JSON body; empty for 202), recorded as a call of
        ``InvokeFunction`` too (``emulator.calls_of``)."""
        status, answer, invocation = self._serve(method, path, query, headers, body)
        from ._emulator import Call

        call = Call("fc", "InvokeFunction", {"function": invocation.function}, status=status)
        call.code = answer.get("Code")
        self.owner.record(call)
        return status, answer

    def _serve(
        self, method: str, path: str, query: Mapping[str, str], headers: Any, body: bytes
    ) -> tuple[int, dict[str, Any], FunctionInvocation]:
        match = _PATH.fullmatch(path)
        invocation = FunctionInvocation(
            function=match.group(1) if match else path,
            payload=body,
            qualifier=query.get("qualifier"),
            task_id=headers.get("x-fc-async-task-id"),
            headers={
                k.lower(): v
                for k, v in headers.items()
                if k.lower() not in ("authorization", "x-acs-security-token")
            },
        )
        try:
            if method != "POST" or match is None:
                raise ApiCallError(404, "PathNotSupported", f"{method} {path} is not served.")
            self._authenticate(method, path, query, headers, body)
            if headers.get("x-fc-invocation-type") != "Async":
                raise ApiCallError(
                    400, "InvalidArgument", "the emulator serves asynchronous invocations only"
                )
            if len(body) > MAX_ASYNC_PAYLOAD:
                raise ApiCallError(
                    413, "EntityTooLarge", "payload size exceeds maximum allowed size"
                )
            if invocation.function not in self.functions:
                raise ApiCallError(404, "FunctionNotFound", f"function {invocation.function}")
            task = invocation.task_id
            if task is not None and not _TASK_ID.fullmatch(task):
                raise ApiCallError(400, "InvalidArgument", "x-fc-async-task-id is invalid")
            with self.owner._lock:
                if task is not None and self.task_mode:
                    if task in self._tasks:
                        raise ApiCallError(409, "AsyncTaskExists", f"task {task} exists")
                    self._tasks.add(task)
                self.invocations.append(invocation)
                self.pending.append(invocation)
        except ApiCallError as error:
            invocation.status, invocation.code = error.status, error.code
            with self.owner._lock:
                self.invocations.append(invocation)
            return error.status, {"Code": error.code, "Message": error.message}, invocation
        return 202, {}, invocation

    def _authenticate(
        self, method: str, path: str, query: Mapping[str, str], headers: Any, body: bytes
    ) -> None:
        match = _AUTH.fullmatch(headers.get("Authorization") or "")
        if match is None:
            raise ApiCallError(401, "InvalidAuthorization", "Authorization is not ACS3.")
        key_id, signed_names, signature = match.groups()
        creds = self.owner.keys.get(key_id)
        if creds is None:
            raise ApiCallError(404, "InvalidAccessKeyId.NotFound", "access key not found")
        names = signed_names.split(";")
        sent_acs = {n.lower() for n in headers if n.lower().startswith("x-acs-")}
        required = {"host", "x-acs-date", "x-acs-content-sha256", "x-acs-signature-nonce"}
        unsigned = (required | sent_acs) - set(names)
        if unsigned or names != sorted(names):
            raise ApiCallError(400, "InvalidSignedHeaders", f"not signed: {sorted(unsigned)}")
        if headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            raise ApiCallError(400, "InvalidContentSHA256", "body does not match its hash")
        if headers.get("x-acs-version") != "2023-03-30" or (
            headers.get("x-acs-action") != "InvokeFunction"
        ):
            raise ApiCallError(400, "InvalidAction", "x-acs-version/x-acs-action")
        try:
            stamp = datetime.strptime(headers.get("x-acs-date") or "", "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise ApiCallError(400, "InvalidTimeStamp.Format", "x-acs-date") from None
        if abs(stamp.replace(tzinfo=timezone.utc).timestamp() - time.time()) > _MAX_CLOCK_SKEW:
            raise ApiCallError(400, "InvalidTimeStamp.Expired", "x-acs-date expired")
        canonical_query = "&".join(f"{k}={quote(query[k], safe='~')}" for k in sorted(query))
        canonical_headers = "".join(f"{n}:{(headers.get(n) or '').strip()}\n" for n in names)
        canonical = "\n".join(
            [method, path, canonical_query, canonical_headers, signed_names, headers[_SHA]]
        )
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(
            creds.access_key_secret.encode(), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise ApiCallError(403, "SignatureNotMatch", "signature does not match")
        if creds.security_token is not None and (
            headers.get("x-acs-security-token") != creds.security_token
        ):
            raise ApiCallError(400, "InvalidSecurityToken.Mismatch", "security token")
        if not self.owner._first_use("fc:" + (headers.get("x-acs-signature-nonce") or "")):
            raise ApiCallError(400, "SignatureNonceUsed", "nonce used already")
