"""rulekit signs and sends API requests itself (rulekit/_signing.py, rulekit/_http.py); the SDK
it replaced on the runtime path, aliyun-python-sdk-core, is the reference.

For generated actions, parameters and credentials, both send their request over real HTTP to a
loopback capture server, with the SDK's timestamp and nonce pinned to the ones rulekit used: the
method, path and query, form body, the headers that reach the server's logic, and so the
signature, must be byte-identical. The emulator, whose verifier nobody shares with the signer,
accepts rulekit's requests and refuses a tampered one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit._http import Connections
from rulekit._signing import signed_request
from rulekit.testing import ConfigEmulator

TIMESTAMP = "2026-12-02T23:01:44Z"
NONCE = "5f1e0c4b9a7d4e2f8c3b6a1d0e9f8a7b"
#: Headers that reach a server's logic; the SDK's User-Agent and x-sdk-* are informational.
COMPARED_HEADERS = (
    "Host",
    "Content-Type",
    "Content-Length",
    "Content-MD5",
    "Accept-Encoding",
    "x-acs-action",
    "x-acs-version",
)
#: Parameters the signer sets itself; a caller's parameter never has one of these names.
COMMON = {
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
}

# Any text UTF-8 can carry (rulekit refuses lone surrogates before signing): non-ASCII, the
# characters URL and form encodings treat specially, empty and long values.
_RESERVED = " +*~%&=/?#:;,@!$'()[]\"<>\\^`{|}\t\n"
text = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(_RESERVED),
        st.sampled_from("éü中文😀ß"),
    ),
    max_size=40,
) | st.text(st.characters(blacklist_categories=("Cs",)), min_size=500, max_size=3000)
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda name: name not in COMMON
)
actions = st.from_regex(r"[A-Z][A-Za-z]{2,40}", fullmatch=True)
versions = st.sampled_from(["2020-09-07", "2020-03-31", "2015-04-01", "2014-05-26"])
params = st.dictionaries(names, text, max_size=6) | st.builds(
    lambda rest, region: {**rest, "RegionId": region},
    st.dictionaries(names, text, max_size=4),
    text,
)


class _Keys(NamedTuple):
    # Credentials' fields without Credentials' side effect: constructing one registers its
    # secret and token for masking process-wide, and hundreds of generated ones would crowd out
    # the suite's own and mask ordinary text in later tests.
    access_key_id: str
    access_key_secret: str
    security_token: str | None


credentials = st.builds(
    _Keys,
    st.from_regex(r"(STS\.)?[A-Za-z0-9]{8,24}", fullmatch=True),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
    st.none() | st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300),
)
region_ids = st.sampled_from(["cn-hangzhou", "cn-shanghai", "ap-southeast-1"])


class _Capture(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "body": self.rfile.read(length),
                "headers": {name: self.headers.get(name) for name in COMPARED_HEADERS},
            }
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture(scope="module")
def capture() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    handler = type("Capture", (_Capture,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _sdk_send(
    url: str, action: str, version: str, given: dict[str, str], creds: Any, region: str
) -> None:
    """The request as rulekit built it with the SDK before (CommonRequest, RegionId in the
    query, the rest in the body, the signer pinned to the credential given)."""
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.auth.signers.sts_token_signer import StsTokenSigner
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    request = CommonRequest(domain=url, version=version, action_name=action, product="Config")
    request.set_method("POST")
    request.set_protocol_type("https")
    request.set_accept_format("JSON")
    for key, value in given.items():
        if key == "RegionId":
            request.add_query_param(key, value)
        else:
            request.add_body_params(key, value)
    if creds.security_token is None:
        client = AcsClient(ak=creds.access_key_id, secret=creds.access_key_secret, region_id=region)
    else:
        sts = StsTokenCredential(creds.access_key_id, creds.access_key_secret, creds.security_token)
        client = AcsClient(region_id=region, credential=sts)
        client._signer = StsTokenSigner(sts)
    client.do_action_with_exception(request)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions, versions, params, credentials, region_ids)
def test_the_signed_request_is_the_sdks_byte_for_byte(
    capture: tuple[str, list[dict[str, Any]]],
    action: str,
    version: str,
    given: dict[str, str],
    creds: Any,
    region: str,
) -> None:
    from aliyunsdkcore.utils import parameter_helper

    url, seen = capture
    seen.clear()
    request = signed_request(
        action, version, given, creds, region_id=region, timestamp=TIMESTAMP, nonce=NONCE
    )
    Connections().post(url, request, connect_timeout=5, read_timeout=5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parameter_helper, "get_iso_8061_date", lambda: TIMESTAMP)
        patch.setattr(parameter_helper, "get_uuid", lambda: NONCE)
        _sdk_send(url, action, version, given, creds, region)
    ours, sdks = seen
    assert ours == sdks


@pytest.fixture(scope="module")
def emulator_for_generated_keys() -> Iterator[ConfigEmulator]:
    with ConfigEmulator() as emulator:
        emulator.stub("config", "EchoSigned", {"Echoed": True})
        yield emulator


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(params, credentials)
def test_the_emulator_accepts_rulekits_requests_and_refuses_a_tampered_one(
    emulator_for_generated_keys: ConfigEmulator, given: dict[str, str], creds: Any
) -> None:
    emulator = emulator_for_generated_keys
    emulator.keys[creds.access_key_id] = creds
    connections = Connections()
    request = signed_request("EchoSigned", "2020-09-07", given, creds, region_id="cn-shanghai")
    status, body = connections.post(emulator.url, request, connect_timeout=5, read_timeout=5)
    assert (status, b'"Echoed": true' in body) == (200, True), body
    received = emulator.calls[-1]
    assert received.params == {k: v for k, v in given.items() if k != "RegionId"}
    assert received.region_id == given.get("RegionId", "cn-shanghai")

    # The same request with one parameter's value changed after signing, and sent again with a
    # fresh nonce so that only the signature can refuse it.
    again = signed_request("EchoSigned", "2020-09-07", given, creds, region_id="cn-shanghai")
    query = dict(parse_qsl(urlsplit(again.path).query, keep_blank_values=True))
    tampered = again._replace(path=again.path.replace("Format=JSON", "Format=XML"))
    assert query["Format"] == "JSON" and tampered.path != again.path
    status, body = connections.post(emulator.url, tampered, connect_timeout=5, read_timeout=5)
    assert status == 400 and b"SignatureDoesNotMatch" in body
