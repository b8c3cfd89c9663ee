"""Alibaba Cloud RPC signature, version 1.0 (HMAC-SHA1), as the emulator verifies it.

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
from collections.abc import Mapping
from urllib.parse import quote

__all__ = ["percent_encode", "sign", "string_to_sign"]


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
