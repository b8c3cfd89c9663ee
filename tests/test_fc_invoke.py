"""FC 3.0 InvokeFunction (async), the call a chained sweep hands over with: rulekit's ACS3 signer
against the official SDK (alibabacloud-fc20230330 / alibabacloud-tea-openapi, test-only
oracles), and the emulator's verification against requests the SDK itself sends."""

from __future__ import annotations

import hashlib
import random
import string

import alibabacloud_fc20230330.models as fc_models
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulekit import ApiError
from rulekit._credentials import Credentials
from rulekit._fc_api import MAX_ASYNC_PAYLOAD, FunctionApi, authorization
from rulekit.testing import TEST_CREDENTIALS


def _sdk_client(emulator, credentials: Credentials = TEST_CREDENTIALS):
    from alibabacloud_fc20230330.client import Client
    from alibabacloud_tea_openapi.models import Config

    host = emulator.url.removeprefix("http://")
    return Client(
        Config(
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token,
            endpoint=host,
            protocol="http",
            region_id="cn-hangzhou",
        )
    )


def _sdk_invoke(client, function: str, body: bytes, **headers: str):
    from darabonba.runtime import RuntimeOptions

    return client.invoke_function_with_options(
        function,
        fc_models.InvokeFunctionRequest(body=body, qualifier=headers.pop("qualifier", None)),
        fc_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", **headers),
        RuntimeOptions(),
    )


def test_the_official_sdk_is_accepted_by_the_emulator(emulator):
    response = _sdk_invoke(
        _sdk_client(emulator), "rulekit", b'{"a": 1}', x_fc_async_task_id="t-1", qualifier="LATEST"
    )
    assert response.status_code == 202
    (accepted,) = emulator.fc.accepted
    assert (accepted.function, accepted.qualifier, accepted.task_id) == ("rulekit", "LATEST", "t-1")
    assert accepted.payload == b'{"a": 1}'


def test_the_emulator_refuses_a_wrong_secret_from_the_sdk(emulator):
    wrong = Credentials(
        TEST_CREDENTIALS.access_key_id, "not-the-secret-000", TEST_CREDENTIALS.security_token
    )
    with pytest.raises(Exception, match="SignatureNotMatch"):
        _sdk_invoke(_sdk_client(emulator, wrong), "rulekit", b"{}")
    assert emulator.fc.accepted == []


def test_rulekit_invokes_like_the_sdk(emulator):
    fc = FunctionApi(TEST_CREDENTIALS, emulator.url)
    assert fc.invoke_async("rulekit", b'{"x": "y"}', qualifier="prod", task_id="rulekit-c-2")
    (accepted,) = emulator.fc.accepted
    assert (accepted.qualifier, accepted.task_id, accepted.payload) == (
        "prod",
        "rulekit-c-2",
        b'{"x": "y"}',
    )
    assert [c.action for c in emulator.calls] == ["InvokeFunction"]


def test_a_repeated_task_id_is_an_earlier_hand_over_not_an_error(emulator):
    fc = FunctionApi(TEST_CREDENTIALS, emulator.url)
    assert fc.invoke_async("rulekit", b"{}", task_id="rulekit-c-2") is True
    assert fc.invoke_async("rulekit", b"{}", task_id="rulekit-c-2") is False
    assert [i.status for i in emulator.fc.invocations] == [202, 409]
    assert len(emulator.fc.pending) == 1


def test_a_payload_over_128_kb_is_refused_before_sending(emulator):
    fc = FunctionApi(TEST_CREDENTIALS, emulator.url)
    with pytest.raises(ApiError, match="EntityTooLarge|at most 131072"):
        fc.invoke_async("rulekit", b"x" * (MAX_ASYNC_PAYLOAD + 1))
    assert emulator.fc.invocations == []


def test_the_emulator_refuses_a_payload_over_128_kb(emulator):
    with pytest.raises(Exception, match="EntityTooLarge"):
        _sdk_invoke(_sdk_client(emulator), "rulekit", b"x" * (MAX_ASYNC_PAYLOAD + 1))


def test_an_unknown_function_is_an_api_error_naming_it(emulator):
    fc = FunctionApi(TEST_CREDENTIALS, emulator.url)
    with pytest.raises(ApiError, match="FunctionNotFound") as caught:
        fc.invoke_async("other", b"{}")
    assert caught.value.action == "InvokeFunction" and not caught.value.retryable


_text = st.text(alphabet=string.ascii_letters + string.digits + " -_.~/+=*%&éü", max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    query=st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=8), _text),
    extra=st.dictionaries(
        st.text(string.ascii_lowercase + "-", min_size=1, max_size=12).map(lambda k: "x-fc-" + k),
        _text.map(str.strip),
        max_size=4,
    ),
    body=st.binary(max_size=200),
)
def test_the_signature_equals_the_sdks_for_generated_requests(query, extra, body):
    from alibabacloud_tea_openapi.utils import Utils

    headers = {
        "host": "1234.cn-hangzhou.fc.aliyuncs.com",
        "x-acs-version": "2023-03-30",
        "x-acs-action": "InvokeFunction",
        "x-acs-date": "2026-12-02T23:00:00Z",
        "x-acs-signature-nonce": f"{random.getrandbits(128):032x}",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "x-acs-security-token": TEST_CREDENTIALS.security_token,
        **extra,
    }
    path = "/2023-03-30/functions/rulekit/invocations"

    class Request:
        method = "POST"
        pathname = path

    request = Request()
    request.query = query  # type: ignore[attr-defined]
    request.headers = headers  # type: ignore[attr-defined]
    expected = Utils.get_authorization(
        request,
        "ACS3-HMAC-SHA256",
        headers["x-acs-content-sha256"],
        TEST_CREDENTIALS.access_key_id,
        TEST_CREDENTIALS.access_key_secret,
    )
    ours = authorization(
        "POST", path, query, headers, headers["x-acs-content-sha256"], TEST_CREDENTIALS
    )
    assert ours == expected


def test_rulekit_sends_the_models_path_and_headers_as_the_sdk_does(emulator):
    """The request's shape against the official model: the x-fc-* headers are
    InvokeFunctionHeaders' wire names, and for the same call rulekit and the SDK send the same
    path, qualifier, FC headers, content type and body."""
    model_headers = set(
        fc_models.InvokeFunctionHeaders(
            x_fc_invocation_type="Async", x_fc_async_task_id="t", x_fc_log_type="None"
        ).to_map()
    )
    assert fc_models.InvokeFunctionRequest(qualifier="q").to_map() == {"qualifier": "q"}
    _sdk_invoke(_sdk_client(emulator), "rulekit", b"{}", x_fc_async_task_id="t-9", qualifier="v1")
    FunctionApi(TEST_CREDENTIALS, emulator.url).invoke_async(
        "rulekit", b"{}", qualifier="v1", task_id="t-10"
    )
    sdk, ours = emulator.fc.accepted

    def fc_headers(invocation):
        return {k: v for k, v in invocation.headers.items() if k.startswith("x-fc-")}

    assert set(fc_headers(ours)) <= model_headers
    assert set(fc_headers(ours)) == set(fc_headers(sdk))
    assert fc_headers(ours)["x-fc-invocation-type"] == "Async"
    for name in ("content-type", "x-acs-version", "x-acs-action"):
        assert ours.headers[name] == sdk.headers[name]
    assert (ours.function, ours.qualifier, ours.payload) == (sdk.function, sdk.qualifier, b"{}")
