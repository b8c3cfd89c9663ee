"""Evaluations: compliance types, the wire form, bounded annotations."""

from __future__ import annotations

import json

import pytest

from rulekit import Compliance, Evaluation, EvaluationError
from rulekit._evaluation import MAX_ANNOTATION_LENGTH, format_annotation


def _complete(**kwargs):
    base = {
        "resource_id": "i-1",
        "resource_type": "ACS::ECS::Instance",
        "compliance": "COMPLIANT",
        "region_id": "cn-hangzhou",
        "account_id": "1234",
        "ordering_timestamp": 17,
    }
    return Evaluation(**{**base, **kwargs})


def test_compliance_has_the_four_platform_types():
    assert [c.value for c in Compliance] == [
        "COMPLIANT",
        "NON_COMPLIANT",
        "NOT_APPLICABLE",
        "INSUFFICIENT_DATA",
    ]
    assert Compliance.coerce("non_compliant") is Compliance.NON_COMPLIANT


def test_wire_form_is_lower_camel_with_numeric_account():
    wire = _complete(annotation="why", resource_name="web").to_wire()
    assert wire == {
        "accountId": 1234,
        "complianceResourceId": "i-1",
        "complianceResourceType": "ACS::ECS::Instance",
        "complianceRegionId": "cn-hangzhou",
        "complianceType": "COMPLIANT",
        "orderingTimestamp": 17,
        "annotation": "why",
        "complianceResourceName": "web",
    }


@pytest.mark.parametrize("account", ["²", "١٢٣", "12a", "acct-1"])
def test_an_account_id_of_anything_but_ascii_digits_stays_text(account):
    # str.isdigit takes superscripts (which int() refuses: a crash) and other scripts' digits
    assert _complete(account_id=account).to_wire()["accountId"] == account


def test_incomplete_evaluation_cannot_be_sent():
    with pytest.raises(EvaluationError, match="lacks region"):
        Evaluation("i-1", "ACS::ECS::Instance", "COMPLIANT").to_wire()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"resource_id": ""}, "resource_id"),
        ({"resource_type": None}, "resource_type"),
        ({"compliance": "GREEN"}, "not a compliance type"),
        ({"annotation": 3}, "annotation"),
    ],
)
def test_invalid_evaluations_are_rejected(kwargs, message):
    with pytest.raises(EvaluationError, match=message):
        _complete(**kwargs)


def test_long_text_annotation_is_bounded():
    text = format_annotation("x" * 5000)
    assert len(text) == MAX_ANNOTATION_LENGTH and text.endswith("…")


def test_long_dict_annotation_stays_valid_json_within_the_bound():
    annotation = {
        "configuration": ["sg-" + "a" * 50] * 100,
        "desiredValue": "y" * 3000,
        "operator": "In",
        "property": "$.SecurityGroupIds",
    }
    text = format_annotation(annotation)
    assert len(text) <= MAX_ANNOTATION_LENGTH
    parsed = json.loads(text)
    assert parsed["operator"] == "In" and parsed["property"] == "$.SecurityGroupIds"


def test_unicode_annotation_is_not_escaped():
    assert format_annotation({"configuration": "生产"}) == '{"configuration":"生产"}'
