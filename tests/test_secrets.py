"""No access key secret, security token or result token in any log line or error message.

The autouse fixture in conftest.py already checks every log record of every test; these tests
drive the paths where the SDK and the API are known to echo secrets."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest
from conftest import assert_no_secret

from rulekit import DeliveryError
from rulekit.credentials import Credentials
from rulekit.event import decode_event
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, ConfigEmulator, change_event

CONTRACT = "sample_rules.contract"


def _event() -> dict:
    return change_event(
        "ACS::ECS::Instance",
        "i-001",
        {"ImageId": "m-1"},
        tags={"env": ["prod"]},
        rule_parameters={"imageIds": "m-1"},
    )


def _full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def test_sdk_http_debug_output_is_scrubbed(
    emulator, fc_context, monkeypatch, capfd, no_secret_in_any_log_record
):
    monkeypatch.setenv("DEBUG", "sdk")  # makes the SDK log request URLs and headers
    run(_event(), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    sdk_lines = [
        line for line in no_secret_in_any_log_record.lines if line.startswith("aliyunsdkcore.http")
    ]
    assert any("SecurityToken=***" in line for line in sdk_lines)  # the SDK logged the URL...
    captured = capfd.readouterr()  # (its own stderr handler, too)
    assert_no_secret(captured.err + captured.out)  # ...but never the token itself


def test_signature_mismatch_echo_of_the_string_to_sign_is_scrubbed(fc_context):
    # The API answers SignatureDoesNotMatch with its string-to-sign, which holds SecurityToken.
    wrong = Credentials(
        TEST_CREDENTIALS.access_key_id,
        "the-emulators-other-secret-value",
        TEST_CREDENTIALS.security_token,
    )
    with (
        ConfigEmulator(wrong) as emulator,
        pytest.raises(DeliveryError, match="SignatureDoesNotMatch") as caught,
    ):
        run(
            _event(),
            fc_context,
            environ=emulator.environ(RULEKIT_RULES=CONTRACT, RULEKIT_MAX_ATTEMPTS="1"),
        )
    assert "string to sign" in str(caught.value)
    assert_no_secret(_full_text(caught.value))
    for error in caught.value.errors:
        assert_no_secret(_full_text(error))


def test_transport_error_quoting_the_request_url_is_scrubbed(fc_context):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    env = {
        "RULEKIT_ENDPOINT": f"http://127.0.0.1:{port}",
        "RULEKIT_RULES": CONTRACT,
        "RULEKIT_LOAD_PLUGINS": "",
        "RULEKIT_MAX_ATTEMPTS": "1",
    }
    with pytest.raises(DeliveryError, match="SDK.HttpError") as caught:
        run(_event(), fc_context, environ=env)
    assert_no_secret(_full_text(caught.value))


def test_reprs_hide_secrets_and_the_result_token():
    assert_no_secret(repr(TEST_CREDENTIALS))
    assert_no_secret(repr(decode_event(_event())))


def test_a_rule_logging_a_token_by_mistake_is_scrubbed(no_secret_in_any_log_record):
    from rulekit import _redact

    _redact.install()
    logging.getLogger("some.rule").warning(
        "token is %s and url ?SecurityToken=%s&x=1",
        TEST_CREDENTIALS.security_token,
        "unregistered-tok",
    )
    line = no_secret_in_any_log_record.lines[-1]
    assert "unregistered-tok" not in line and "***" in line


def test_the_suite_wide_error_check_sees_raised_errors(no_secret_in_any_error_message):
    from rulekit import EventError

    with pytest.raises(EventError):
        decode_event(b"{bad")
    assert any("not valid JSON" in m for m in no_secret_in_any_error_message)


def test_a_long_lived_instance_masks_its_credentials_and_recent_tokens_in_every_form():
    # A warm instance registers a new result token per invocation; registering stays cheap (no
    # pattern rebuilt per invocation), the tokens never push credentials out, nothing recent leaks.
    from urllib.parse import quote

    from rulekit import _redact

    secret = "cred/secret+value=1"  # registered once, like cached member-account credentials
    _redact.register_secret(secret)
    tokens = [f"result-token/{n:04d}+tail" for n in range(300)]
    for token in tokens:
        _redact.register_secret(token, transient=True)
    recent = tokens[-32:]
    for value in [secret, *recent]:
        for form in (value, quote(value, safe=""), quote(quote(value, safe=""), safe="")):
            cleaned = _redact.redact(f"PutEvaluations failed, echoing {form} back")
            assert form not in cleaned and cleaned.endswith(f"echoing {_redact.MASK} back")
    # a token registered after a redaction is masked too (the cached forms are refreshed)
    _redact.register_secret("late-token-registered-after-use")
    assert "late-token" not in _redact.redact("x late-token-registered-after-use y")


def test_every_encoded_form_is_masked_for_any_text():
    # rulekit builds the encoded forms itself (urllib's quote costs a Python step per character);
    # they must be exactly what quote() produces, for ASCII and non-ASCII secrets alike.
    from urllib.parse import quote

    from rulekit import _redact

    for secret in ["a+b/c=d*e~f%g h", "tok_ün/ïcode+漢字=", "plain-token-0123"]:
        _redact.register_secret(secret)
        once = quote(secret, safe="")
        sdk = once.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")
        for form in {secret, once, quote(once, safe=""), sdk, quote(sdk, safe="")}:
            assert _redact.redact(f"[{form}]") == f"[{_redact.MASK}]", form


def test_a_line_shorter_than_every_token_skips_them_and_a_longer_one_is_masked():
    from rulekit import _redact

    token = "t" * 40 + "/+=" + "k" * 40  # longer than the line below
    _redact.register_secret(token, transient=True)
    assert _redact.redact("rule x: 1 evaluation delivered") == "rule x: 1 evaluation delivered"
    assert _redact.redact(f"echo {token} back") == f"echo {_redact.MASK} back"
    encoded = token.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D")
    assert _redact.redact(f"url ?x={encoded}&y=1") == f"url ?x={_redact.MASK}&y=1"
