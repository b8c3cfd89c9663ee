"""Alibaba Cloud RPC requests (signature version 1.0, HMAC-SHA1), signed exactly as
aliyun-python-sdk-core 2.x signs a ``CommonRequest`` sent with ``do_action_with_exception``.

The SDK is the reference: tests/test_signing.py proves, for generated actions, parameters and
credentials, that the method, URL, form body, headers and signature built here are the SDK's
byte for byte (same timestamp and nonce), and the emulator verifies them. The algorithm
(docs/platform.md, research in docs/performance.md "Signing without the SDK's stack"):

- the URL carries, in this order: ``RegionId`` when the caller gives one, ``SecurityToken``
  (STS credentials), ``Version``, ``Action``, ``Format``, ``RegionId`` (the client's, when
  absent), ``Timestamp``, ``SignatureMethod``, ``SignatureType`` (empty, and still signed),
  ``SignatureVersion``, ``SignatureNonce``, ``AccessKeyId``, then ``Signature``;
- every other parameter goes in the form body, encoded as ``urllib.parse.urlencode`` does
  (space as ``+``);
- the string to sign is ``POST&%2F&`` + the percent-encoded canonical query: URL and body
  parameters together, sorted by name, names and values percent-encoded per RFC 3986;
- the signature is base64(HMAC-SHA1(secret + "&", string to sign)).

A retry is a new request: sign it again (a fresh nonce and timestamp), as the SDK does.

Example::

    >>> from rulekit._credentials import Credentials
    >>> request = signed_request("GetConfigRule", "2020-09-07", {"ConfigRuleId": "cr-1"},
    ...     Credentials("AKID", "doctest-key-secret"), region_id="cn-shanghai",
    ...     timestamp="2026-12-02T23:01:44Z", nonce="0" * 32)
    >>> request.path.split("&Signature=")[1]
    'VS%2BAohBdY6%2F1Vw8vMIbX8wVnIa4%3D'
    >>> request.body
    b'ConfigRuleId=cr-1'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import quote, urlencode

from ._credentials import Credentials

__all__ = ["SignedRequest", "signed_request", "string_to_sign"]

_FORM = "application/x-www-form-urlencoded"


class SignedRequest(NamedTuple):
    """What goes on the wire: ``POST path`` with ``headers`` and ``body``."""

    path: str
    body: bytes
    headers: dict[str, str]


def _pct(text: str) -> str:
    # RFC 3986: only A-Z a-z 0-9 - _ . ~ stay; UTF-8 bytes as upper-case %XX, space as %20.
    return quote(text, safe="~")


def string_to_sign(params: Mapping[str, str]) -> str:
    """``POST&%2F&`` + the percent-encoded canonical query of ``params`` (URL and body)."""
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(params.items()))
    return "POST&%2F&" + _pct(canonical)


def signed_request(
    action: str,
    version: str,
    params: Mapping[str, str],
    credentials: Credentials,
    *,
    region_id: str,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> SignedRequest:
    """``action`` with ``params`` (all in the form body but ``RegionId``, which the SDK reads
    from the query), signed with ``credentials``. ``timestamp`` and ``nonce`` are fresh unless
    given (tests pin them to compare with the SDK)."""
    query: dict[str, str] = {}
    if "RegionId" in params:
        query["RegionId"] = params["RegionId"]
    if credentials.security_token is not None:
        query["SecurityToken"] = credentials.security_token
    query["Version"] = version
    query["Action"] = action
    query["Format"] = "JSON"
    query.setdefault("RegionId", region_id)
    query["Timestamp"] = timestamp or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    query["SignatureMethod"] = "HMAC-SHA1"
    query["SignatureType"] = ""
    query["SignatureVersion"] = "1.0"
    # The platform refuses a nonce it has seen (SignatureNonceUsed): 128 random bits.
    query["SignatureNonce"] = nonce or os.urandom(16).hex()
    query["AccessKeyId"] = credentials.access_key_id
    form = {k: v for k, v in params.items() if k != "RegionId"}
    text = string_to_sign({**query, **form})
    key = f"{credentials.access_key_secret}&".encode()
    query["Signature"] = base64.b64encode(
        hmac.new(key, text.encode(), hashlib.sha1).digest()
    ).decode()
    path = "/?" + "&".join(f"{_pct(k)}={_pct(v)}" for k, v in query.items())
    headers = {"x-acs-version": version, "x-acs-action": action}
    if not form:
        return SignedRequest(path, b"", headers)
    body = urlencode(form).encode()
    headers["Content-Type"] = _FORM
    headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    return SignedRequest(path, body, headers)
