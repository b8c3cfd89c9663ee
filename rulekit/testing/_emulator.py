"""A loopback emulator of the Cloud Config API (and the few other RPC APIs rulekit calls).

It speaks the real wire protocol, so tests drive the real aliyun-python-sdk-core over real HTTP:
it verifies every request's RPC signature, timestamp, nonce and STS token, validates
PutEvaluations strictly (``Evaluations`` must be a JSON array string of lowerCamel objects, at
most 100), records every call, and can be scripted to throttle, fail, drop or stall.
It binds to 127.0.0.1 only.

Example::

    with ConfigEmulator() as emulator:
        env = emulator.environ()        # RULEKIT_ENDPOINT + ALIBABA_CLOUD_* test credentials
        emulator.script("PutEvaluations", Throttle())
        run(event, FCContext(), environ=env)
        assert len(emulator.evaluations) == 1
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .._credentials import Credentials
from ._call import Call
from ._faults import ApiCallError, ApiFailure, Delay, Drop, Fault, Pass, Throttle
from ._fc import FC_PATH_PREFIX, FunctionService
from ._quota import Quotas
from ._signature import authenticate
from ._store import ResourceStore

__all__ = ["TEST_CREDENTIALS", "ApiCallError", "Call", "ConfigEmulator"]

#: The STS credentials the emulator accepts unless told otherwise (test values, not secrets).
TEST_CREDENTIALS = Credentials(
    "STS.rulekit-test-key",
    "rulekit-test-secret-0123456789",
    "rulekit-test-security-token-abcdefghijklmnop",
)

#: API version -> product, for requests sent to the emulator's root path.
VERSIONS = {
    "2020-09-07": "config",
    "2020-03-31": "resourcemanager",
    "2014-05-26": "ecs",
    "2016-04-28": "vpc",
    "2015-05-01": "ram",
    "2014-08-15": "rds",
    "2014-05-15": "slb",
    "2015-04-01": "sts",
}

Handler = Callable[[dict[str, str]], dict[str, Any]]


_COMMON = {"Format", "Version", "AccessKeyId", "SignatureMethod", "Timestamp", "SignatureVersion"}
_COMMON |= {"SignatureNonce", "Signature", "SecurityToken", "SignatureType", "Action", "RegionId"}


class ConfigEmulator:
    """The emulator. Use as a context manager, or ``start()`` / ``stop()``. ``quota``: requests
    per second per action, beyond which calls are throttled (:meth:`set_quota`)."""

    def __init__(
        self,
        credentials: Credentials = TEST_CREDENTIALS,
        *,
        quota: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys: dict[str, Credentials] = {credentials.access_key_id: credentials}
        self.credentials = credentials
        self.store = ResourceStore()
        self.calls: list[Call] = []
        self.evaluations: list[dict[str, Any]] = []
        self.accounts: dict[str, tuple[str, list[str]]] = {}
        #: The account group ListAggregate*/GetAggregate* accept (None: no aggregator).
        self.aggregator_id: str | None = None
        #: access key id -> member account, for credentials issued by AssumeRole.
        self.assumed: dict[str, str] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._always: dict[str, Fault] = {}
        self.quotas = Quotas(clock=clock)
        for action, per_second in (quota or {}).items():
            self.quotas.set(action, per_second)
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        from ._advanced_search import register as register_search
        from ._config_actions import register

        register(self)
        register_search(self)
        self._builtin_handlers = dict(self._handlers)
        #: Function Compute's asynchronous InvokeFunction (chained sweeps, testing/_fc.py).
        self.fc = FunctionService(self)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, port: int = 0) -> ConfigEmulator:
        """Serve on 127.0.0.1:``port`` (0: a free port; see :attr:`url`)."""
        emulator = self

        class _Handler(_RequestHandler):
            owner = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            daemon=True,
            name="rulekit-config-emulator",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ConfigEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environ(self, **extra: str) -> dict[str, str]:
        """Environment for the handler: every product's endpoint here, and test credentials."""
        env = {
            "RULEKIT_ENDPOINT": self.url,
            # Only the modules a test names (RULEKIT_RULES), not every installed pack.
            "RULEKIT_LOAD_PLUGINS": "",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": self.credentials.access_key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": self.credentials.access_key_secret,
        }
        if self.credentials.security_token:
            env["ALIBABA_CLOUD_SECURITY_TOKEN"] = self.credentials.security_token
        env.update(extra)
        return env

    # -- scripting ------------------------------------------------------------------------
    def script(self, action: str, *faults: Fault) -> None:
        """Apply ``faults`` to the next calls of ``action``, one each, in order."""
        with self._lock:
            self._faults.setdefault(action, deque()).extend(faults)

    def always(self, action: str, fault: Fault | None) -> None:
        """Apply ``fault`` to every call of ``action`` until cleared with None."""
        with self._lock:
            if fault is None:
                self._always.pop(action, None)
            else:
                self._always[action] = fault

    def set_quota(self, action: str, per_second: float | None, burst: float | None = None) -> None:
        """Throttle calls of ``action`` beyond ``per_second`` (a token bucket of ``burst``
        tokens, default one second's worth, per account; None: no quota)."""
        self.quotas.set(action, per_second, burst)

    def handle(self, product: str, action: str, handler: Handler) -> None:
        """Serve ``product``/``action`` with ``handler(params) -> response dict``."""
        self._handlers[(product.lower(), action)] = handler

    def stub(self, product: str, action: str, response: dict[str, Any]) -> None:
        """Answer ``product``/``action`` with a recorded JSON response."""
        self.handle(product, action, lambda params: response)

    def respond(self, product: str, action: str, response: Any) -> None:
        """Like :meth:`stub`, for recorded responses as fixtures give them: a list is served one
        per call (the last repeats), and ``{"error": {"code": ..., "status": 404,
        "message": ...}}`` answers with that API error."""
        responses = response if isinstance(response, list) else [response]
        if not responses or not all(isinstance(r, dict) for r in responses):
            raise ValueError(f"stubbed responses for {product}.{action} must be JSON objects")
        served = [0]

        def next_response(params: dict[str, str]) -> dict[str, Any]:
            index = min(served[0], len(responses) - 1)
            served[0] += 1
            chosen = responses[index]
            error = chosen.get("error") if len(chosen) == 1 else None
            if isinstance(error, dict) and error.get("code"):
                raise ApiCallError(
                    int(error.get("status", 400)),
                    str(error["code"]),
                    str(error.get("message", "stubbed error")),
                )
            return dict(chosen)

        self.handle(product, action, next_response)

    def reset(self) -> None:
        """Forget calls, evaluations, stubs, scripted faults and stored resources; quotas stay,
        refilled."""
        with self._lock:
            self.calls.clear()
            self.evaluations.clear()
            self._faults.clear()
            self._always.clear()
            self._handlers = dict(self._builtin_handlers)
            self.store = ResourceStore()
        self.fc.reset()
        self.quotas.refill()

    def issue_credentials(self, account_id: str) -> Credentials:
        """New STS credentials for ``account_id`` (what AssumeRole hands out), accepted from now
        on; calls signed with them are recorded with ``Call.account_id``."""
        n = len(self.assumed) + 1
        creds = Credentials(
            f"STS.assumed-{account_id}-{n}",
            f"assumed-secret-{account_id}-{n}x",
            f"assumed-token-{account_id}-{n}-abcdefgh",
        )
        with self._lock:
            self.keys[creds.access_key_id] = creds
            self.assumed[creds.access_key_id] = account_id
        return creds

    def add_account(self, account_id: str, folder_id: str, ancestors: list[str]) -> None:
        """A resource-directory member account in ``folder_id``, under ``ancestors``."""
        self.accounts[str(account_id)] = (folder_id, list(ancestors))

    # -- what happened --------------------------------------------------------------------
    def calls_of(self, action: str) -> list[Call]:
        return [c for c in self.calls if c.action == action]

    @property
    def put_calls(self) -> list[Call]:
        """PutEvaluations calls that were answered successfully."""
        return [c for c in self.calls_of("PutEvaluations") if c.ok]

    def results(self) -> dict[tuple[str, str, str, str], dict[str, Any]]:
        """The latest evaluation per (account, region, type, id): what Cloud Config would show."""
        latest: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for ev in self.evaluations:
            key = (
                str(ev["accountId"]),
                ev["complianceRegionId"],
                ev["complianceResourceType"],
                ev["complianceResourceId"],
            )
            latest[key] = ev
        return latest

    # -- request processing ---------------------------------------------------------------
    def _next_fault(self, action: str, account_id: str | None) -> Fault | None:
        with self._lock:
            queue = self._faults.get(action)
            if queue:
                return queue.popleft()
            if action in self._always:
                return self._always[action]
        return None if self.quotas.admits(account_id, action) else Throttle()

    def _authenticate(self, params: dict[str, str]) -> str:
        return authenticate(params, self.keys, self._first_use)

    def _first_use(self, nonce: str) -> bool:
        with self._lock:
            if nonce in self._nonces:
                return False
            self._nonces.add(nonce)
            return True

    def _product(self, path: str, params: dict[str, str]) -> str:
        prefix = path.strip("/").split("/", 1)[0].lower()
        if prefix:
            return prefix
        product = VERSIONS.get(params.get("Version", ""))
        if product is None:
            raise ApiCallError(
                400, "InvalidVersion", f"Specified version {params.get('Version')!r} is not valid."
            )
        return product

    def process(
        self, path: str, params: dict[str, str]
    ) -> tuple[int, dict[str, Any], Call, Fault | None]:
        action = params.get("Action", "")
        own = {k: v for k, v in params.items() if k not in _COMMON}
        call = Call(
            product="?",
            action=action,
            params=own,
            access_key_id=params.get("AccessKeyId"),
            region_id=params.get("RegionId"),
        )
        fault: Fault | None = None
        try:
            call.product = self._product(path, params)
            self._authenticate(params)
            call.account_id = self.assumed.get(params.get("AccessKeyId", ""))
            fault = self._next_fault(action, call.account_id)
            if isinstance(fault, Pass):
                fault = None
            if isinstance(fault, ApiFailure):
                raise ApiCallError(fault.status, fault.code, fault.message)
            if fault is not None and not (isinstance(fault, Delay) and fault.process):
                call.fault = fault
                return 0, {}, call, fault
            handler = self._handlers.get((call.product, action))
            if handler is None:
                raise ApiCallError(
                    400,
                    "InvalidAction.NotFound",
                    f"Specified api {action} is not found for {call.product}.",
                )
            body = handler(own)
            body.setdefault("RequestId", str(uuid.uuid4()).upper())
            call.fault = fault
            return 200, body, call, fault
        except ApiCallError as error:
            call.status, call.code, call.fault = error.status, error.code, fault
            return (
                error.status,
                {
                    "RequestId": str(uuid.uuid4()).upper(),
                    "Code": error.code,
                    "Message": error.message,
                    "HostId": "127.0.0.1",
                },
                call,
                fault,
            )

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self.calls))


class _RequestHandler(BaseHTTPRequestHandler):
    owner: ConfigEmulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines carry SecurityToken: never print them

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if split.path.startswith(FC_PATH_PREFIX):  # ROA-style FC, not an RPC action
            query = dict(parse_qsl(split.query, keep_blank_values=True))
            status, answer = self.owner.fc.serve(self.command, split.path, query, self.headers, raw)
            return self._answer(status, json.dumps(answer).encode() if answer else b"")
        body = raw.decode("utf-8")
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        status, payload, call, fault = self.owner.process(split.path, params)
        call.connection = f"{self.client_address[0]}:{self.client_address[1]}"
        self.owner.record(call)  # before any delay, so a test sees the call its client timed out
        if isinstance(fault, Delay):
            time.sleep(fault.seconds)
        if isinstance(fault, (Drop, Delay)) and status == 0:
            self.close_connection = True
            return
        self._answer(status, json.dumps(payload).encode())

    def _answer(self, status: int, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout): it will retry
