"""Keep credentials, security tokens and result tokens out of every log line and error message.

Two layers, because either alone leaks:
- every secret value rulekit handles is registered, and masked raw and in every encoding a server
  or a library is known to echo it in: percent-encoded once or twice (upper- and lower-case hex,
  ``quote()``'s default form that keeps "/", the SDK's form), and base64 (also inside a longer
  base64 text, at any byte alignment), and
- parameter names that always carry a secret (``SecurityToken=...``) are masked by pattern, which
  also covers values rulekit never saw.

A result token is masked for as long as the invocation that brought it runs (``holding``), and
the most recent ones after that; ``redact`` never raises, whatever it is given: a masking
function that fails would turn every log line and error into a crash (or a leak).

``install()`` wraps the logging record factory, so the SDK's own loggers (it logs full request
URLs, including ``SecurityToken``) and any rule's logger are scrubbed before a handler sees them.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._secret_forms import forms

__all__ = ["MASK", "holding", "install", "masked_cause", "redact", "register_secret", "shown"]

MASK = "***"
#: What ``redact`` returns if masking itself fails: nothing of the text, rather than all of it.
WITHHELD = "[text withheld: it could not be checked for secrets]"
# A warm FC instance sees a new result token per invocation. The tokens of invocations still
# running are held (``holding``) however many others start meanwhile; besides those, the most
# recent ones are kept for text produced just after an invocation (or by a decode outside the
# handler: tests, the CLI). Credentials live
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

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_=-]+")  # (see _secret_forms)


class _Pool:
    """Secrets of one lifetime, the ``limit`` most recently registered, with their encoded forms
    built on first need: registering runs on every invocation, redacting only when something is
    logged or raised. No lock on the registering side: each container operation there is
    atomic, and racing adds can at worst keep one value too many until the next add."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.added = 0  # moves when a value joins: the forms below are then stale
        self.built_at = 0
        # raw value -> its (plain, base64) forms, longest first
        self.built: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.forms: tuple[tuple[str, ...], ...] = ()
        self.base64: tuple[str, ...] = ()  # every secret's base64 forms, longest first
        self.shortest = sys.maxsize  # no text shorter than this can hold one of them
        self.shortest_base64 = sys.maxsize  # nor a base64 run shorter than this

    def _current(self) -> list[str]:
        raise NotImplementedError

    def every(self) -> tuple[tuple[str, ...], ...]:
        if self.built_at == self.added:
            return self.forms
        with _lock:
            added = self.added  # read first: an add racing the snapshot forces the next rebuild
            current = self._current()
            built = self.built
            self.built = {raw: built.get(raw) or forms(raw) for raw in current}
            self.forms = tuple(plain for plain, _ in self.built.values())
            encoded = [form for _, forms in self.built.values() for form in forms]
            self.base64 = tuple(sorted(encoded, key=len, reverse=True))
            self.shortest_base64 = min(map(len, encoded), default=sys.maxsize)
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
    twice (FC retrying an event) takes two of them and is masked once. ``held`` counts, per
    token, the invocations running with it: those stay masked however many others come after."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.recent: deque[str] = deque(maxlen=limit)
        self.held: dict[str, int] = {}

    def hold(self, value: str) -> None:
        if len(value) < _MIN_SECRET_LEN:
            return
        with _lock:
            self.held[value] = self.held.get(value, 0) + 1
            self.added += 1
            self.shortest = min(self.shortest, len(value))

    def release(self, value: str) -> None:
        with _lock:
            count = self.held.get(value, 0) - 1
            if count > 0:
                self.held[value] = count
            elif self.held.pop(value, None) is not None:
                self.added += 1

    def add(self, value: str) -> None:
        if len(value) < _MIN_SECRET_LEN:
            return
        self.recent.append(value)
        self.added += 1  # (inline, not shared with _Credentials: this runs per invocation)
        if len(value) < self.shortest:
            self.shortest = len(value)

    def _current(self) -> list[str]:
        # (list(): one C-level copy first; every() calls this under the lock hold() takes)
        return list(dict.fromkeys([*list(self.recent), *self.held]))


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


@contextmanager
def holding(token: str) -> Iterator[None]:
    """Keep ``token`` masked for as long as the block runs (an invocation), however many other
    tokens are registered meanwhile; afterwards it is one of the recent ones.

    Example::

        with holding(event.result_token):
            dispatcher.dispatch(event, sink=sink)
    """
    _TRANSIENT.hold(token)
    try:
        yield
    finally:
        _TRANSIENT.release(token)
        _TRANSIENT.add(token)


def redact(text: object) -> str:
    """Return ``text`` (made a string if it is not one) with every registered secret and every
    secret-named parameter masked. Never raises: if masking fails, nothing of the text is shown.

    Example::

        >>> redact("POST /?SecurityToken=abc123xyz&Action=PutEvaluations")
        'POST /?SecurityToken=***&Action=PutEvaluations'
    """
    try:
        out = text if text.__class__ is str else _text(text)
        assert isinstance(out, str)
        size = len(out)
        longest_run = -1  # of base64 characters in the text: measured once, when needed
        for pool in (_LASTING, _TRANSIENT):
            if size < pool.shortest:  # a log line shorter than every result token holds none
                continue
            for forms in pool.every():
                for form in forms:
                    if form in out:
                        out = out.replace(form, MASK)
            if pool.base64 and size >= pool.shortest_base64:
                if longest_run < 0:
                    longest_run = max(map(len, _BASE64_RUN.findall(out)), default=0)
                if longest_run >= pool.shortest_base64:  # (ordinary text has no such run)
                    for form in pool.base64:
                        if form in out:
                            out = out.replace(form, MASK)
        out = _BY_NAME.sub(lambda m: f"{m.group('name')}{m.group('sep')}{MASK}", out)
        # A lone surrogate (valid JSON, so in any id or name) would make printing it raise.
        return out if out.isascii() else _SURROGATE.sub(_escaped, out)
    except Exception:  # (a bug here must not become a crash, nor the unmasked text)
        return WITHHELD


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    try:
        return str.__str__(value) if isinstance(value, str) else str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` masked, then cut to ``limit`` characters: masking after the cut would
    let a secret's prefix through.

    Example::

        >>> shown("x" * 100, 10)
        "'xxxxxxxx…"
    """
    try:
        text = redact(repr(value))
    except Exception:
        text = redact(_text(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def masked_cause(exc: BaseException) -> BaseException:
    """What to chain with ``raise ... from``: ``exc`` itself when its printed chain holds no
    secret, else a stand-in with the same type name and traceback (the frames show where the
    error arose) and the message masked; a traceback prints every cause's message.

    Example::

        except Exception as exc:
            raise EvaluationError(redact(f"rule raised {exc}")) from masked_cause(exc)
    """
    try:
        printed = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if redact(printed) == printed:
            return exc
    except Exception:
        pass  # (an exception that cannot even be printed gets the stand-in)
    stand_in = _MaskedCause(f"{type(exc).__name__}: {redact(exc)}")
    stand_in.__traceback__ = exc.__traceback__
    stand_in.__suppress_context__ = True
    return stand_in


class _MaskedCause(Exception):
    """The masked stand-in :func:`masked_cause` chains in place of an exception."""


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
