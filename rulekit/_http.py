"""Kept-alive HTTP(S) connections to API endpoints, one per endpoint, over ``http.client``.

What aliyun-python-sdk-core's vendored requests/urllib3 stack did for rulekit, at a third of its
CPU per call (docs/performance.md): connect and read timeouts per request, TLS verified against
the system's CA store (or ``ALIBABA_CLOUD_CA_BUNDLE``, as the SDK honours it), a connection the
server closed while idle detected and replaced before it is used. Every transport failure is an
``OSError`` or ``http.client.HTTPException`` for the caller to classify; the connection it
happened on is closed, so the next request opens a new one. Not thread-safe: the caller's pool
gives each request its own :class:`Connections`.

Example::

    connections = Connections()
    status, body = connections.post("http://127.0.0.1:8080", request, connect_timeout=5.0,
                                    read_timeout=10.0)
"""

from __future__ import annotations

import http.client
import os
import select
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from ._signing import SignedRequest

__all__ = ["Connections", "open_connection"]

_USER_AGENT = f"rulekit Python/{sys.version_info.major}.{sys.version_info.minor}"
# A warm instance talks to a handful of endpoints (Config, STS, a product or two); a long-lived
# process that has met more (tests, one emulator each) closes the least recently used.
_MAX_ENDPOINTS = 8

_tls: dict[str | None, ssl.SSLContext] = {}  # by CA bundle file (None: the system's store)
_tls_lock = threading.Lock()


def _tls_context() -> ssl.SSLContext:
    # Loading a CA store costs milliseconds: once per process, and only for HTTPS.
    bundle = os.environ.get("ALIBABA_CLOUD_CA_BUNDLE") or None
    with _tls_lock:
        if bundle not in _tls:
            import ssl

            _tls[bundle] = ssl.create_default_context(cafile=bundle)
        return _tls[bundle]


def _split(endpoint: str) -> tuple[str, str, str]:
    # An endpoint is a host (HTTPS, the platform) or a URL used as given, its path included
    # (the loopback emulator): the request's "/?query" goes after that path, as the SDK did.
    scheme, _, rest = endpoint.rpartition("://")
    host, _, path = rest.partition("/")
    return scheme or "https", host, f"/{path}" if path else ""


def open_connection(endpoint: str) -> http.client.HTTPConnection:
    """An unconnected connection to ``endpoint`` (a host: HTTPS; or a URL as given)."""
    scheme, host, _ = _split(endpoint)
    if scheme == "http":
        return http.client.HTTPConnection(host)
    return http.client.HTTPSConnection(host, context=_tls_context())


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    # An idle kept-alive socket that reads as ready has been closed (or answered out of turn)
    # by the server: sending on it would fail or, worse, be half-sent. urllib3 checks the same.
    sock = connection.sock
    if sock is None:
        return False
    if hasattr(select, "poll"):  # select() fails on descriptors past 1024; poll() does not
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)  # Windows (`rulekit run` on a laptop)
    return bool(readable)


class Connections:
    """One kept-alive connection per endpoint, for one request at a time."""

    def __init__(self) -> None:
        self._open: dict[str, http.client.HTTPConnection] = {}

    def post(
        self,
        endpoint: str,
        request: SignedRequest,
        *,
        connect_timeout: float,
        read_timeout: float,
    ) -> tuple[int, bytes]:
        """Send ``request`` to ``endpoint``; the answer's HTTP status and body."""
        connection = self._open.pop(endpoint, None)
        if connection is None or _closed_by_peer(connection):
            if connection is not None:
                connection.close()
            connection = open_connection(endpoint)
        try:
            if connection.sock is None:
                connection.timeout = connect_timeout
                connection.connect()
            assert connection.sock is not None  # connect() opened it
            connection.sock.settimeout(read_timeout)
            headers = {**request.headers, "User-Agent": _USER_AGENT}
            target = _split(endpoint)[2] + request.path
            connection.request("POST", target, request.body, headers)
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            connection.close()
            raise
        self._open[endpoint] = connection  # most recently used last
        while len(self._open) > _MAX_ENDPOINTS:
            self._open.pop(next(iter(self._open))).close()
        return response.status, body
