"""The forms a secret takes when a server, the SDK or a library echoes it, for ``_redact``.

A secret is masked raw, escaped as inside a JSON string or a ``repr()``, percent-encoded once or
twice (upper- and lower-case hex, ``quote()``'s default form that keeps "/", the SDK's form), and
in base64: alone, or inside a longer base64 text at any byte alignment, in the standard and the
URL-safe alphabet.

Example::

    >>> forms("a/b")
    ('a%252Fb', 'a%252fb', 'a%2Fb', 'a%2fb', 'a/b')
    >>> forms("secret-token")[0]  # base64, on its own
    'c2VjcmV0LXRva2Vu'
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

__all__ = ["forms", "printable"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_HEX_ESCAPE = re.compile(r"%[0-9A-F]{2}")
_MIN_BASE64_CORE = 8  # a shorter run of base64 characters would mask ordinary words


def _base64_cores(raw: bytes) -> set[str]:
    """What base64 makes of ``raw`` wherever it sits in a longer text: at each of the 3 byte
    alignments, the characters that depend on ``raw`` alone (the first and last group mix in
    the neighbouring bytes, so they are left out), in the standard and the URL-safe alphabet."""
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        start, end = (4 if offset else 0), 4 * ((offset + len(raw)) // 3)
        cores.add(encoded[start:end])
        if offset == 0:
            cores.add(encoded)  # on its own, with its "=" padding
    cores |= {core.replace("+", "-").replace("/", "_") for core in cores}
    return {core for core in cores if len(core) >= _MIN_BASE64_CORE}


def printable(text: str) -> str:
    """``text`` with each lone surrogate (valid JSON, so possible in any id, name or token)
    written as its escape (``\\ud83d``), as ``redact`` shows it: printing it would raise."""
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def forms(value: str) -> tuple[str, ...]:
    """Every form of ``value`` to mask, longest first, so a raw value never masks only part of
    one of its encoded forms."""
    # A lone surrogate (valid JSON, so possible in any token) is encoded as its UTF-8-style
    # bytes: what a lenient encoder would echo, and never an exception.
    once = quote(value, safe="", errors="surrogatepass")
    sdk = once.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")
    keeps_slash = once.replace("%2F", "/")  # quote(value): its default safe="/"
    percent = {once, sdk, keeps_slash}
    percent |= {_HEX_ESCAPE.sub(lambda m: m.group().lower(), form) for form in percent}
    # Encoding again only touches "%": the rest of an encoded form is already safe.
    every = {printable(value), *percent, *(form.replace("%", "%25") for form in percent)}
    # Inside a JSON string (json.dumps escapes non-ASCII, quotes, backslashes and controls as
    # \uXXXX / \" / \\) and inside a repr() (an error message showing a value): the escaped
    # text between the quotes.
    every |= {json.dumps(value)[1:-1], repr(value)[1:-1]}
    every |= _base64_cores(value.encode("utf-8", "surrogatepass"))
    return tuple(sorted(every, key=lambda form: (-len(form), form)))
