"""The emulator is strict where the platform is: signatures, nonces, tokens, payloads."""

from __future__ import annotations

import json
import random

import pytest

from rulekit import ApiError
from rulekit._api import ApiClient, RetryPolicy
from rulekit._config_api import ConfigApi
from rulekit._credentials import Credentials
from rulekit.testing import TEST_CREDENTIALS

ONE = {
    "accountId": 1,
    "complianceResourceId": "i-1",
    "complianceResourceType": "ACS::ECS::Instance",
    "complianceRegionId": "cn-hangzhou",
    "complianceType": "COMPLIANT",
    "orderingTimestamp": 1,
}


def _api(emulator, credentials=TEST_CREDENTIALS) -> ApiClient:
    return ApiClient(credentials, retry=RetryPolicy(max_attempts=1), rng=random.Random(1))


def _put(emulator, evaluations_text: str, credentials=TEST_CREDENTIALS):
    client = _api(emulator, credentials)
    return client.call(
        "PutEvaluations",
        {"ResultToken": "tok-123456", "Evaluations": evaluations_text},
        product="Config",
        version="2020-09-07",
        endpoint=emulator.url,
    )


def test_a_well_formed_call_is_accepted_and_recorded(emulator):
    assert _put(emulator, json.dumps([ONE]))["Result"] is True
    assert emulator.evaluations == [ONE]
    assert emulator.put_calls[0].params["ResultToken"] == "tok-123456"


@pytest.mark.parametrize(
    "text, code",
    [
        (repr([ONE]), "InvalidParameter.Evaluations"),  # the official samples' bug
        (json.dumps([ONE] * 101), "InvalidParameter.Evaluations"),
        (json.dumps([{**ONE, "compliance_type": "X"}]), "InvalidParameter.Evaluations"),
        (json.dumps([{**ONE, "complianceType": "GREEN"}]), "InvalidParameter.ComplianceType"),
        (json.dumps([{**ONE, "orderingTimestamp": "1"}]), "InvalidParameter.OrderingTimestamp"),
        (json.dumps({"a": 1}), "InvalidParameter.Evaluations"),
    ],
)
def test_malformed_evaluations_are_rejected(emulator, text, code):
    with pytest.raises(ApiError) as caught:
        _put(emulator, text)
    assert caught.value.code == code and caught.value.status == 400
    assert emulator.evaluations == []


def test_a_wrong_secret_fails_the_signature_check(emulator):
    wrong = Credentials(
        TEST_CREDENTIALS.access_key_id,
        "not-the-right-secret-value",
        TEST_CREDENTIALS.security_token,
    )
    with pytest.raises(ApiError) as caught:
        _put(emulator, json.dumps([ONE]), wrong)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_a_wrong_security_token_is_rejected(emulator):
    wrong = Credentials(
        TEST_CREDENTIALS.access_key_id,
        TEST_CREDENTIALS.access_key_secret,
        "another-security-token-value",
    )
    with pytest.raises(ApiError) as caught:
        _put(emulator, json.dumps([ONE]), wrong)
    assert caught.value.code == "InvalidSecurityToken.Mismatch"


def test_an_unknown_access_key_is_rejected(emulator):
    with pytest.raises(ApiError) as caught:
        _put(emulator, json.dumps([ONE]), Credentials("LTAI-unknown", "secret-value-xyz"))
    assert caught.value.code == "InvalidAccessKeyId.NotFound" and caught.value.status == 404


def test_a_replayed_nonce_is_rejected(emulator):
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    _put(emulator, json.dumps([ONE]))
    # Replay the exact signed parameters of the recorded call with its nonce.
    call = emulator.calls[0]
    assert call.ok
    nonce = "fixed-nonce-0001"
    from rulekit.testing._signature import sign, string_to_sign

    params = {
        "Action": "PutEvaluations",
        "Version": "2020-09-07",
        "Format": "JSON",
        "AccessKeyId": TEST_CREDENTIALS.access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce,
        "SecurityToken": TEST_CREDENTIALS.security_token,
        "Timestamp": __import__("time").strftime("%Y-%m-%dT%H:%M:%SZ", __import__("time").gmtime()),
        "ResultToken": "tok-123456",
        "Evaluations": json.dumps([ONE]),
    }
    params["Signature"] = sign(string_to_sign("POST", params), TEST_CREDENTIALS.access_key_secret)
    from urllib.parse import urlencode

    body = urlencode(params).encode()
    assert json.loads(urlopen(Request(emulator.url + "/", data=body)).read())["Result"]
    with pytest.raises(HTTPError) as caught:
        urlopen(Request(emulator.url + "/", data=body))
    assert json.loads(caught.value.read())["Code"] == "SignatureNonceUsed"


def test_stubbed_product_actions_are_served_by_path_or_version(emulator):
    emulator.stub("Ecs", "DescribeImages", {"Images": {"Image": [{"ImageOwnerAlias": "system"}]}})
    client = _api(emulator)
    body = client.call(
        "DescribeImages",
        {"ImageId": "m-1"},
        product="Ecs",
        version="2014-05-26",
        endpoint=emulator.url + "/ecs",
    )
    assert body["Images"]["Image"][0]["ImageOwnerAlias"] == "system"
    assert emulator.calls_of("DescribeImages")[0].product == "ecs"
    body = client.call(
        "DescribeImages", {}, product="Ecs", version="2014-05-26", endpoint=emulator.url
    )
    assert "Images" in body


def test_an_action_nobody_serves_is_an_error_naming_it(emulator):
    with pytest.raises(ApiError, match="DescribeNothing"):
        _api(emulator).call(
            "DescribeNothing", {}, product="Config", version="2020-09-07", endpoint=emulator.url
        )


def test_config_api_get_discovered_resource(emulator):
    emulator.store.add(
        "ACS::OSS::Bucket",
        "b-1",
        region="cn-beijing",
        configuration={"AccessControlList": {"Grant": "private"}},
    )
    detail = ConfigApi(_api(emulator), endpoint=emulator.url).get_discovered_resource(
        "b-1", "ACS::OSS::Bucket", "cn-beijing"
    )
    assert json.loads(detail["Configuration"]) == {"AccessControlList": {"Grant": "private"}}
    with pytest.raises(ApiError, match="ResourceNotExists"):
        ConfigApi(_api(emulator), endpoint=emulator.url).get_discovered_resource(
            "b-2", "ACS::OSS::Bucket", "cn-beijing"
        )


def test_config_api_fetch_configuration_completes_a_listed_resource(emulator):
    # What an OVERSIZE event and every swept resource go through: the listing's Resource, with
    # the configuration, account and tags the detail gives, and its group from the configuration.
    from rulekit import Resource

    emulator.store.add(
        "ACS::ECS::Instance",
        "i-1",
        account_id="1000000000001234",
        configuration={"ImageId": "m-1", "ResourceGroupId": "rg-7"},
        tags={"env": ["prod"]},
    )
    listed = Resource(id="i-1", type="ACS::ECS::Instance", region="cn-hangzhou", account_id="")
    fetched = ConfigApi(_api(emulator), endpoint=emulator.url).fetch_configuration(listed)
    assert fetched.get("$.ImageId") == "m-1" and listed.configuration == {}
    assert fetched.account_id == "1000000000001234"
    assert fetched.resource_group_id == "rg-7"
    assert fetched.tags.get("env") == ["prod"]
