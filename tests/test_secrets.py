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
from rulekit._credentials import Credentials
from rulekit._event import decode_event
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


def test_debug_log_of_the_request_url_is_scrubbed(
    emulator, fc_context, capfd, no_secret_in_any_log_record
):
    # rulekit logs each request's URL at DEBUG (what DEBUG=sdk showed when the SDK sent them).
    run(_event(), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    lines = [line for line in no_secret_in_any_log_record.lines if line.startswith("rulekit.api")]
    assert any("SecurityToken=***" in line for line in lines)  # the URL was logged...
    captured = capfd.readouterr()
    assert_no_secret(captured.err + captured.out)  # ...but never the token itself


def test_sdk_http_debug_output_is_scrubbed(
    emulator, monkeypatch, capfd, no_secret_in_any_log_record
):
    # rulekit no longer sends through the SDK, but a rule's own code may: once rulekit has
    # made a client, the SDK's DEBUG=sdk lines are scrubbed too (it logs URLs and headers).
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    from rulekit._api import ApiClient

    ApiClient(TEST_CREDENTIALS)
    monkeypatch.setenv("DEBUG", "sdk")
    credential = StsTokenCredential(
        TEST_CREDENTIALS.access_key_id,
        TEST_CREDENTIALS.access_key_secret,
        TEST_CREDENTIALS.security_token,
    )
    request = CommonRequest(
        domain=emulator.url,
        version="2020-09-07",
        action_name="ListDiscoveredResources",
        product="Config",
    )
    request.set_method("POST")
    request.add_body_params("ResourceTypes", "ACS::ECS::Instance")
    request.add_body_params("MaxResults", 10)
    AcsClient(region_id="cn-shanghai", credential=credential).do_action_with_exception(request)
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
    # a secret registered after a redaction is masked too
    _redact.register_secret("late-token-registered-after-use")
    assert "late-token" not in _redact.redact("x late-token-registered-after-use y")


def test_every_encoded_form_is_masked_for_any_text():
    # The encoded forms must be exactly what quote() produces, for ASCII and non-ASCII secrets.
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


# -- hostile values: masking never raises, every encoding, a token's whole invocation ----------
HOSTILE = "sample_rules.hostile"


def test_redaction_never_raises_whatever_it_is_given():
    # A result token with a lone surrogate (valid JSON) once made every later masking call raise
    # UnicodeEncodeError: the next invocation crashed on its first Throttle instead of retrying.
    from rulekit import _redact

    poisoned = "poisoned-token-\ud83d-tail"
    _redact.register_secret(poisoned, transient=True)

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    for given in [f"a {poisoned} b", "lone \udcff", b"\xff\xfe bytes", None, 12, Unprintable()]:
        assert isinstance(_redact.redact(given), str)
    assert poisoned not in _redact.redact(f"echo {poisoned}")


def test_a_poisoned_result_token_fails_its_event_and_the_next_invocation_still_retries(
    emulator, fc_context
):
    from rulekit import EventError
    from rulekit.testing import Throttle

    env = emulator.environ(RULEKIT_RULES=CONTRACT, RULEKIT_RETRY_BASE_DELAY="0.001")
    poisoned = _event()
    poisoned["resultToken"] = "poisoned-token-\ud83d-tail"
    with pytest.raises(EventError, match="resultToken"):
        run(poisoned, fc_context, environ=env)
    emulator.script("PutEvaluations", Throttle())
    summary = run(_event(), fc_context, environ=env)
    assert summary["delivered"] == 1 and len(emulator.evaluations) == 1


def test_a_server_echoing_a_secret_base64_or_lower_case_or_quote_encoded_is_masked(
    emulator, fc_context
):
    import base64
    from urllib.parse import quote

    from rulekit.testing import ApiFailure

    token = TEST_CREDENTIALS.security_token or ""
    forms = [
        base64.b64encode(token.encode()).decode(),
        base64.b64encode(f"id:{token}".encode()).decode(),  # inside a longer base64 text
        base64.urlsafe_b64encode(f"xy{token}".encode()).decode(),
        quote(token, safe="").lower(),
        quote(token),  # quote()'s default keeps "/"
    ]
    message = "echo " + " | ".join(forms)
    emulator.script("PutEvaluations", ApiFailure(400, "InvalidParameter", message))
    env = emulator.environ(RULEKIT_RULES=CONTRACT, RULEKIT_MAX_ATTEMPTS="1")
    with pytest.raises(DeliveryError) as caught:
        run(_event(), fc_context, environ=env)
    text = _full_text(caught.value)
    assert "echo ***" in text
    for form in forms:
        assert form[8:-8] not in text, form


def test_a_token_stays_masked_for_as_long_as_its_invocation_runs(
    emulator, no_secret_in_any_log_record
):
    # The registry kept the 64 latest tokens: an invocation outliving 70 others printed its own.
    import threading

    from sample_rules import hostile

    env = emulator.environ(RULEKIT_RULES=HOSTILE, RULEKIT_RULE="waits-then-leaks")
    mine = "long-running-invocation-token-0001"
    event = change_event("ACS::ECS::Instance", "i-waits", {}, result_token=mine)
    caught: list[BaseException] = []

    def long_invocation() -> None:
        try:
            run(event, None, environ=env)
        except BaseException as exc:
            caught.append(exc)

    hostile.GATE.clear()
    worker = threading.Thread(target=long_invocation)
    worker.start()
    try:
        for n in range(70):
            other = change_event(
                "ACS::ECS::Instance", "i-other", {}, result_token=f"other-{n:04d}-tk"
            )
            run(other, None, environ=env)
    finally:
        hostile.GATE.set()
        worker.join(30)
    [error] = caught
    assert "failed with token ***" in str(error)
    assert mine not in _full_text(error)
    assert all(mine not in line for line in no_secret_in_any_log_record.lines)
    assert any("my token is ***" in line for line in no_secret_in_any_log_record.lines)


@pytest.mark.parametrize("resource_id", ["i-token", "i-long", "i-raises"])
def test_error_text_from_a_rules_return_value_or_exception_is_masked_before_any_cut(
    emulator, fc_context, resource_id
):
    from rulekit import EvaluationError

    env = emulator.environ(RULEKIT_RULES=HOSTILE, RULEKIT_RULE="returns-a-secret")
    event = change_event("ACS::ECS::Instance", resource_id, {})
    with pytest.raises(EvaluationError) as caught:
        run(event, fc_context, environ=env)
    text = _full_text(caught.value)  # the chained cause included
    token = TEST_CREDENTIALS.security_token or ""
    assert token[:12] not in text and "***" in str(caught.value)
