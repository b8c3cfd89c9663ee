"""The transport under rulekit's API calls (rulekit/_http.py): kept-alive connections over
real loopback HTTP and HTTPS, as the SDK's requests session kept them."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rulekit._api import ApiClient, RetryPolicy
from rulekit.testing import TEST_CREDENTIALS

CALL = {"product": "Config", "version": "2020-09-07"}


class _Answering(BaseHTTPRequestHandler):
    """Answers every POST with ``{}``; records the client's port; ``closes`` hangs up after each
    answer without saying so (no ``Connection: close``), as a server timing out an idle
    kept-alive connection does."""

    protocol_version = "HTTP/1.1"
    ports: list[int]
    closes = False
    answer = (200, b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.ports.append(self.client_address[1])
        status, body = self.answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.closes


class _Server(ThreadingHTTPServer):
    """Releases ``hung_up`` each time it has closed a client's connection."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.hung_up = threading.Semaphore(0)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.hung_up.release()


def _serve(
    closes: bool = False,
    tls: ssl.SSLContext | None = None,
    answer: tuple[int, bytes] = (200, b"{}"),
) -> Any:
    handler = type("Handler", (_Answering,), {"ports": [], "closes": closes, "answer": answer})
    server = _Server(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler.ports


@pytest.fixture
def plain() -> Iterator[tuple[str, list[int]]]:
    server, ports = _serve()
    yield f"http://127.0.0.1:{server.server_address[1]}", ports
    server.shutdown()
    server.server_close()


def test_calls_of_a_client_reuse_one_kept_alive_connection(plain):
    url, ports = plain
    client = ApiClient(TEST_CREDENTIALS, retry=RetryPolicy(max_attempts=1))
    for _ in range(5):
        assert client.call("GetConfigRule", {"ConfigRuleId": "cr-1"}, endpoint=url, **CALL) == {}
    assert len(ports) == 5 and len(set(ports)) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed():
    # Without the check before reuse, the second call would go out on a dead socket and fail
    # (with one attempt allowed, the caller would see SDK.HttpError).
    server, ports = _serve(closes=True)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    client = ApiClient(TEST_CREDENTIALS, retry=RetryPolicy(max_attempts=1))
    try:
        for _ in range(3):
            assert client.call("GetConfigRule", {}, endpoint=url, **CALL) == {}
            # The connection sits idle until the server has hung up, as after its idle timeout
            # (without this wait the next call could beat the hang-up: a different race).
            assert server.hung_up.acquire(timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert len(set(ports)) == 3


def test_an_error_answer_that_is_not_json_keeps_its_status_and_is_retried_when_5xx():
    # A proxy or load balancer in front of an API answers in HTML; the SDK called that
    # SDK.UnknownServerError, and a 5xx is transient whoever sends it.
    from rulekit import ApiError

    server, ports = _serve(answer=(502, b"<html>Bad Gateway</html>"))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    client = ApiClient(
        TEST_CREDENTIALS, retry=RetryPolicy(max_attempts=2, base_delay=0.01), sleep=lambda s: None
    )
    try:
        with pytest.raises(ApiError) as caught:
            client.call("GetConfigRule", {}, endpoint=url, **CALL)
    finally:
        server.shutdown()
        server.server_close()
    error = caught.value
    assert (error.code, error.status, error.retryable, error.attempts) == (
        "SDK.UnknownServerError",
        502,
        True,
        2,
    )
    assert "Bad Gateway" in str(error) and len(ports) == 2


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_a_host_endpoint_is_https_verified_against_the_ca_bundle(tmp_path, monkeypatch):
    # A bare host is how the platform's endpoints are given: HTTPS, certificate verified.
    # ALIBABA_CLOUD_CA_BUNDLE names the CA file, as the SDK honoured it.
    from rulekit import ApiError

    cert_file, key_file = _self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    server, ports = _serve(tls=tls)
    host = f"localhost:{server.server_address[1]}"
    client = ApiClient(TEST_CREDENTIALS, retry=RetryPolicy(max_attempts=1))
    try:
        with pytest.raises(ApiError, match="SDK.HttpError.*CERTIFICATE_VERIFY_FAILED"):
            client.call("GetConfigRule", {}, endpoint=host, **CALL)  # not in the system's store
        monkeypatch.setenv("ALIBABA_CLOUD_CA_BUNDLE", str(cert_file))
        assert client.call("GetConfigRule", {}, endpoint=host, **CALL) == {}
        assert client.call("GetConfigRule", {}, endpoint=host, **CALL) == {}
    finally:
        server.shutdown()
        server.server_close()
    assert len(ports) == 2 and len(set(ports)) == 1
