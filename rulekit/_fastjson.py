"""JSON on the per-invocation path, without the Python layers of ``json.loads``/``json.dumps``.

``json.loads`` runs three Python frames (type checks, a decoder method, a whitespace regex) around
the C scanner, and ``JSONEncoder.encode`` builds a new C encoder on every call. For a Cloud Config
event that is about a third of all JSON time (bench/warm.py). This module calls the C scanner and
one prebuilt C encoder directly and falls back to the json module for everything unusual, so
results and error messages are exactly json's.

Example::

    >>> loads('{"a": [1, "x"]}')
    {'a': [1, 'x']}
    >>> compact_encoder()([{"b": "é"}])
    '[{"b":"é"}]'
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable
from typing import Any

__all__ = ["compact_encoder", "loads"]

# (typeshed types the context argument as the scanner class itself)
_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def loads(text: str) -> Any:
    """``json.loads(text)`` for a str; the scanner alone for a document with no surrounding
    whitespace (Cloud Config's), json.loads for the rest and for every error."""
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)  # raises json's own error, or handles leading whitespace
    if end != len(text):
        return json.loads(text)  # trailing whitespace is fine, anything else json reports
    return value


def _unserialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def compact_encoder() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` with the C encoder built
    once. It does not check for cycles: use it on values rulekit builds (flat wire dicts), never
    on a rule's own data."""
    make_encoder = json.encoder.c_make_encoder  # type: ignore[attr-defined]
    try:
        # (markers, default, encoder, indent, key_separator, item_separator, sort_keys,
        #  skipkeys, allow_nan), as json.encoder passes them
        encoder = make_encoder(
            None, _unserialisable, json.encoder.encode_basestring, None, ":", ",", False,
            False, True,
        )  # fmt: skip
    except TypeError:  # no C accelerator (None), or a changed signature
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode
