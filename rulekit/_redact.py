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
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._secret_forms import forms, printable

__all__ = ["MASK", "holding", "install", "masked_cause", "redact", "register_secret", "shown"]

MASK = "***"
#: What ``redact`` returns if masking itself fails: nothing of the text, rather than all of it.
WITHHELD = "[text withheld: it could not be checked for secrets]"
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

_lock = threading.Lock()  # guards both pools and ``_installed``
_installed = False


class _Pool:
    """Secrets of one lifetime with their forms, computed once when a secret is registered:
    the ``limit`` most recently registered, plus any that an invocation still ``holds``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.forms: dict[str, tuple[str, ...]] = {}  # least recently registered first
        self.held: dict[str, int] = {}  # secret -> invocations running with it

    def add(self, value: str) -> None:
        """Register ``value`` as the most recent; call with ``_lock`` held."""
        self.forms[value] = self.forms.pop(value, ()) or forms(value)
        excess = len(self.forms) - self.limit
        if excess > 0:
            for old in [old for old in self.forms if old not in self.held][:excess]:
                del self.forms[old]


# Credentials live long (STS credentials of member accounts are cached until near expiry); a warm
# FC instance sees a new result token per invocation. Kept apart, a stream of tokens never pushes
# a credential out, and besides the held ones the most recent tokens stay masked for text produced
# just after an invocation (or by a decode outside the handler: tests, the CLI).
_CREDENTIALS = _Pool(256)
_TOKENS = _Pool(64)


def register_secret(value: str | None, *, transient: bool = False) -> None:
    """Remember a secret so :func:`redact` masks it wherever it shows up. ``transient`` marks a
    per-invocation value (a result token): only the most recent of those are kept.

    Example::

        register_secret(credentials.security_token)
    """
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            (_TOKENS if transient else _CREDENTIALS).add(value)


@contextmanager
def holding(token: str) -> Iterator[None]:
    """Keep ``token`` masked for as long as the block runs (an invocation), however many other
    tokens are registered meanwhile; afterwards it is one of the recent ones.

    Example::

        with holding(event.result_token):
            dispatcher.dispatch(event, sink=sink)
    """
    if len(token) < _MIN_SECRET_LEN:
        yield
        return
    with _lock:
        _TOKENS.held[token] = _TOKENS.held.get(token, 0) + 1
        _TOKENS.add(token)
    try:
        yield
    finally:
        with _lock:
            _TOKENS.held[token] -= 1
            if not _TOKENS.held[token]:
                del _TOKENS.held[token]
            _TOKENS.add(token)


def redact(text: object) -> str:
    """Return ``text`` (made a string if it is not one) with every registered secret and every
    secret-named parameter masked. Never raises: if masking fails, nothing of the text is shown.

    Example::

        >>> redact("POST /?SecurityToken=abc123xyz&Action=PutEvaluations")
        'POST /?SecurityToken=***&Action=PutEvaluations'
    """
    try:
        # First, so no escape can re-create text that masking removed: a lone surrogate (valid
        # JSON, so possible in any id or name) would make printing the text raise.
        out = printable(_text(text))
        with _lock:
            secrets = [*_CREDENTIALS.forms.values(), *_TOKENS.forms.values()]
        for every_form in secrets:
            # (its shortest form last: an invocation's log line is shorter than a result token)
            if len(every_form[-1]) <= len(out):
                for form in every_form:
                    out = out.replace(form, MASK)
        return _BY_NAME.sub(lambda m: f"{m.group('name')}{m.group('sep')}{MASK}", out)
    except Exception:  # (a bug here must not become a crash, nor the unmasked text)
        return WITHHELD


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
