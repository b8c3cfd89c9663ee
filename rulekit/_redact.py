"""Keep credentials, security tokens and result tokens out of every log line and error message.

Two layers, because either alone leaks:
- every secret value rulekit handles is registered (raw and percent-encoded, since the SDK and the
  API echo them URL-encoded, e.g. in a SignatureDoesNotMatch "string to sign"), and
- parameter names that always carry a secret (``SecurityToken=...``) are masked by pattern, which
  also covers values rulekit never saw.

``install()`` wraps the logging record factory, so the SDK's own loggers (it logs full request
URLs, including ``SecurityToken``) and any rule's logger are scrubbed before a handler sees them.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import deque
from typing import Any
from urllib.parse import quote

__all__ = ["MASK", "install", "redact", "register_secret"]

MASK = "***"
# A warm FC instance sees a new result token per invocation; only the recent ones can still show
# up in a log line (instance concurrency runs a few invocations at once). Credentials live
# longer (STS credentials of member accounts are cached until near expiry) and are kept apart,
# so a stream of tokens never pushes them out.
_MAX_TRANSIENT = 64
_MAX_LASTING = 256
_MIN_SECRET_LEN = 6  # shorter values would mask ordinary words

_SECRET_NAMES = (
    r"SecurityToken|AccessKeySecret|Signature|ResultToken|"
    r"security_token|access_key_secret|result_token|resultToken|accessKeySecret|securityToken|"
    r"x-acs-security-token"
)
# name, then `=`, `%3D`, `": "`, `: ` or `='`, then the value up to a delimiter.
_BY_NAME = re.compile(
    rf"(?P<name>\b(?:{_SECRET_NAMES}))(?P<sep>=|%3D|%253D|\"?\s*[:=]\s*[\"']?|'\s*:\s*')"
    r"(?P<value>[^&\s\"',)}\]]+?)(?=%26|%2526|[&\s\"',)}\]]|$)",
    re.IGNORECASE,
)

_lock = threading.Lock()
_installed = False

_UNSAFE = re.compile(r"[^A-Za-z0-9_.~-]")  # what quote(value, safe="") encodes
_ESCAPES = {chr(code): f"%{code:02X}" for code in range(128)}


def _percent(value: str) -> str:
    # quote(value, safe=""), without quote's Python step per character on ASCII text (tokens
    # are base64: 21 µs for a 400-character one, and every invocation brings a new one).
    if not value.isascii():
        return quote(value, safe="")
    return _UNSAFE.sub(lambda match: _ESCAPES[match.group()], value)


def _forms(value: str) -> tuple[str, ...]:
    once = _percent(value)
    sdk = once.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")
    # Encoding again only touches "%": the rest of an encoded form is already safe.
    forms = {value, once, once.replace("%", "%25"), sdk, sdk.replace("%", "%25")}
    # Longest first, so a raw value never masks only part of its encoded form. (Across secrets
    # there is no order: one random secret inside another is not a case worth a sort per token.)
    return tuple(sorted(forms, key=len, reverse=True))


class _Pool:
    """Secrets of one lifetime, the ``limit`` most recently registered, with their encoded forms
    built on first need: registering runs on every invocation, redacting only when something is
    logged or raised. No lock on the registering side: each container operation there is
    atomic, and racing adds can at worst keep one value too many until the next add."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.added = 0  # moves when a value joins: the forms below are then stale
        self.built_at = 0
        self.built: dict[str, tuple[str, ...]] = {}  # raw value -> its forms, longest first
        self.forms: tuple[tuple[str, ...], ...] = ()
        self.shortest = sys.maxsize  # no text shorter than this can hold one of them

    def _current(self) -> list[str]:
        raise NotImplementedError

    def every(self) -> tuple[tuple[str, ...], ...]:
        if self.built_at == self.added:
            return self.forms
        with _lock:
            added = self.added  # read first: an add racing the snapshot forces the next rebuild
            current = self._current()
            built = self.built
            self.built = {raw: built.get(raw) or _forms(raw) for raw in current}
            self.forms = tuple(self.built.values())
            self.shortest = min(map(len, current), default=sys.maxsize)
            self.built_at = added
            return self.forms


class _Credentials(_Pool):
    """Kept in order of last registration: a warm instance registers its own on every
    invocation, and those must never be the ones pushed out."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.members: dict[str, None] = {}  # least recently registered first

    def add(self, value: str) -> None:
        if len(value) < _MIN_SECRET_LEN:
            return
        members = self.members
        if value in members:
            if next(reversed(members), None) != value:
                members.pop(value, None)  # now the most recent; the set is unchanged
                members[value] = None
            return
        members[value] = None
        if len(members) > self.limit:
            members.pop(next(iter(members)), None)
        self.added += 1
        if len(value) < self.shortest:
            self.shortest = len(value)

    def _current(self) -> list[str]:
        return list(self.members)  # one C-level copy: an add cannot interleave it


class _Tokens(_Pool):
    """Result tokens: a new one per invocation, so registering only appends (no hashing of a
    280-character token). The pool holds the ``limit`` latest registrations; a token registered
    twice (FC retrying an event) takes two of them and is masked once."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.recent: deque[str] = deque(maxlen=limit)

    def add(self, value: str) -> None:
        if len(value) < _MIN_SECRET_LEN:
            return
        self.recent.append(value)
        self.added += 1  # (inline, not shared with _Credentials: this runs per invocation)
        if len(value) < self.shortest:
            self.shortest = len(value)

    def _current(self) -> list[str]:
        return list(dict.fromkeys(list(self.recent)))  # (list(): one C-level copy first)


_LASTING = _Credentials(_MAX_LASTING)
_TRANSIENT = _Tokens(_MAX_TRANSIENT)


def register_secret(value: str | None, *, transient: bool = False) -> None:
    """Remember a secret so :func:`redact` masks it wherever it shows up. ``transient`` marks a
    per-invocation value (a result token): only the most recent of those are kept.

    Example::

        register_secret(credentials.security_token)
    """
    if value:
        (_TRANSIENT if transient else _LASTING).add(value)


#: ``register_secret(token, transient=True)`` in one call: decoding an event runs it every time.
register_result_token = _TRANSIENT.add


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and every secret-named parameter masked.

    Example::

        >>> redact("POST /?SecurityToken=abc123xyz&Action=PutEvaluations")
        'POST /?SecurityToken=***&Action=PutEvaluations'
    """
    size = len(text)
    for pool in (_LASTING, _TRANSIENT):
        if size < pool.shortest:  # a log line shorter than every result token holds none
            continue
        for forms in pool.every():
            for form in forms:
                if form in text:
                    text = text.replace(form, MASK)
    return _BY_NAME.sub(lambda m: f"{m.group('name')}{m.group('sep')}{MASK}", text)


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is the logger's problem, not a reason to leak
        message = f"{record.msg!r} % {record.args!r}"
    cleaned = redact(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Scrub every log record created from now on in this process (idempotent).

    Example::

        install()
        logging.getLogger("aliyunsdkcore").debug("url %s", "/?SecurityToken=abc123xyz")
    """
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
