"""Shared fixtures: a started loopback emulator, FC contexts, and a suite-wide guard that no
credential, security token or result token reaches any log record."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rulekit import handler as handler_module
from rulekit.testing import TEST_CREDENTIALS, TEST_RESULT_TOKEN, ConfigEmulator, FCContext

pytest_plugins = ["pytester"]

DATA = Path(__file__).parent / "data"

#: Values that must never appear in a log line or error message.
SECRETS = (
    TEST_CREDENTIALS.access_key_secret,
    TEST_CREDENTIALS.security_token or "",
    TEST_RESULT_TOKEN,
    "sample-result-token-not-a-real-one",
    "example-result-token",
    "HLQr3BZx-example-token",
)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret leaked: ...{secret[-6:]} in {text[:200]!r}"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def no_secret_in_any_log_record() -> Iterator[_Capture]:
    """Every test runs with the root logger at DEBUG (so the SDK's and urllib3's debug lines are
    produced too) and fails if any formatted record, traceback included, holds a secret."""
    capture = _Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)
    for line in capture.lines:
        assert_no_secret(line)


@pytest.fixture(autouse=True)
def no_secret_in_any_error_message(monkeypatch) -> Iterator[list[str]]:
    """Every RulekitError raised in any test (caught by it or not) is recorded, and the test
    fails if a message holds a secret. Recording only: the error behaves as ever."""
    from rulekit import _errors

    messages: list[str] = []
    original = _errors.RulekitError.__init__

    def recording(self: Exception, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        messages.append(" ".join(str(a) for a in self.args))  # as stored: what any output shows

    monkeypatch.setattr(_errors.RulekitError, "__init__", recording)
    yield messages
    for message in messages:
        assert_no_secret(message)


@pytest.fixture(autouse=True)
def fresh_handler_caches() -> Iterator[None]:
    """The handler caches rule sets, SDK clients (member accounts' too) and folder lookups across
    warm invocations; tests start cold."""
    caches = (
        handler_module._plugins_cache,
        handler_module._client_cache,
        handler_module._assumed_cache,
        handler_module._folders_cache,
    )
    for cache in caches:
        cache.clear()
    yield
    for cache in caches:
        cache.clear()


@pytest.fixture
def emulator() -> Iterator[ConfigEmulator]:
    with ConfigEmulator() as running:
        yield running


@pytest.fixture
def fc_context() -> Any:
    """An FC Python 3.10-style context carrying the emulator's test credentials."""
    return FCContext(TEST_CREDENTIALS)


def load_event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "events" / name).read_text())
    return loaded
