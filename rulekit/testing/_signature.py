"""Alibaba Cloud RPC signature, version 1.0 (HMAC-SHA1), and request authentication, as the
emulator verifies them.

string-to-sign = METHOD + "&" + enc("/") + "&" + enc(canonicalised query), where the canonical
query is every parameter but ``Signature`` (query and form body together), sorted by name,
each name and value percent-encoded per RFC 3986, joined with "&"; the key is secret + "&".

Example::

    >>> sts = string_to_sign("POST", {"Action": "PutEvaluations", "Version": "2020-09-07"})
    >>> sts
    'POST&%2F&Action%3DPutEvaluations%26Version%3D2020-09-07'
    >>> len(sign(sts, "secret"))
    28
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import quote

from ._faults import ApiCallError

if TYPE_CHECKING:
    from .._credentials import Credentials

__all__ = ["authenticate", "percent_encode", "sign", "string_to_sign"]

_MAX_CLOCK_SKEW = 15 * 60  # seconds a request's Timestamp may be off


def percent_encode(value: str) -> str:
    """RFC 3986 encoding: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}"
        for k, v in sorted(params.items())
        if k != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(text: str, secret: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def authenticate(
    params: Mapping[str, str],
    keys: Mapping[str, Credentials],
    first_use: Callable[[str], bool],
) -> str:
    """Check a request's access key, signature, timestamp, security token and nonce as the
    platform does, raising :class:`ApiCallError` with the platform's error code; returns the
    access key id. ``first_use(nonce)`` is False for a nonce seen before (a replay)."""
    key_id = params.get("AccessKeyId", "")
    creds = keys.get(key_id)
    if creds is None:
        raise ApiCallError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    for name in (
        "Version",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
        "Signature",
        "Action",
    ):
        if not params.get(name):
            raise ApiCallError(400, f"MissingParameter.{name}", f"{name} is mandatory.")
    if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
        raise ApiCallError(400, "InvalidSignatureMethod", "Use HMAC-SHA1 / 1.0.")
    try:
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ApiCallError(
            400, "InvalidTimeStamp.Format", "Specified time stamp is not valid."
        ) from None
    if abs(stamp.replace(tzinfo=timezone.utc).timestamp() - time.time()) > _MAX_CLOCK_SKEW:
        raise ApiCallError(400, "InvalidTimeStamp.Expired", "Specified time stamp expired.")
    expected_sts = string_to_sign("POST", params)
    if sign(expected_sts, creds.access_key_secret) != params["Signature"]:
        raise ApiCallError(
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. "
            f"server string to sign is:{expected_sts}",
        )
    if creds.security_token is not None and params.get("SecurityToken") != creds.security_token:
        raise ApiCallError(
            400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken is not valid."
        )
    if not first_use(params["SignatureNonce"]):
        raise ApiCallError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
    return key_id
