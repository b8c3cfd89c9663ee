"""The ECS pack's rules, through the FC handler against the loopback emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rulekit_ecs

from rulekit import Compliance, ParamsError, Resource
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, ConfigEmulator, FCContext, change_event

INSTANCE = "ACS::ECS::Instance"
VPC_INSTANCE = {
    "InstanceNetworkType": "vpc",
    "VpcAttributes": {"VpcId": "vpc-1"},
    "ImageId": "m-1",
    "PublicIpAddress": {"IpAddress": []},
    "EipAddress": {"IpAddress": ""},
    "DeletionProtection": True,
    "InstanceType": "ecs.g7.large",
    "Cpu": 2,
}


def _evaluate(
    rule: str,
    configuration: dict[str, Any],
    params: dict[str, str] | None = None,
    emulator: ConfigEmulator | None = None,
) -> dict[str, Any]:
    event = change_event(INSTANCE, "i-1", configuration, rule_parameters=params or {})
    own = emulator is None
    emulator = emulator or ConfigEmulator().start()
    try:
        run(
            event,
            FCContext(TEST_CREDENTIALS),
            environ=emulator.environ(
                RULEKIT_RULES="rulekit_ecs", RULEKIT_RULE=rule, RULEKIT_RETRY_BASE_DELAY="0.01"
            ),
        )
        [evaluation] = emulator.evaluations[-1:]
        return evaluation
    finally:
        if own:
            emulator.stop()


def _annotation(evaluation: dict[str, Any]) -> Any:
    return json.loads(evaluation["annotation"])


class TestImageCheck:
    def test_approved_image_is_compliant(self):
        result = _evaluate("ecs-instance-image-check", {"ImageId": "m-2"}, {"imageIds": "m-1,m-2"})
        assert result["complianceType"] == "COMPLIANT"

    def test_other_image_is_non_compliant_with_a_platform_annotation(self):
        result = _evaluate("ecs-instance-image-check", {"ImageId": "m-9"}, {"imageIds": "m-1,m-2"})
        assert result["complianceType"] == "NON_COMPLIANT"
        assert _annotation(result) == {
            "configuration": "m-9",
            "desiredValue": ["m-1", "m-2"],
            "operator": "In",
            "property": "$.ImageId",
        }

    def test_missing_image_is_insufficient_data(self):
        result = _evaluate("ecs-instance-image-check", {}, {"imageIds": "m-1"})
        assert result["complianceType"] == "INSUFFICIENT_DATA"

    def test_the_parameter_is_required(self):
        with pytest.raises(ParamsError, match="imageIds"):
            rulekit_ecs.ecs_instance_image_check.parse_params({})

    def test_the_function_is_plain_python(self):
        rule = rulekit_ecs.ecs_instance_image_check
        resource = Resource(
            id="i", type=INSTANCE, region="r", account_id="1", configuration={"ImageId": "m-1"}
        )
        assert rule(resource, rule.parse_params({"imageIds": "m-1"})) is Compliance.COMPLIANT


class TestImageOwnerSystem:
    @pytest.mark.parametrize(
        "owner, expected",
        [("system", "COMPLIANT"), ("self", "NON_COMPLIANT"), ("marketplace", "NON_COMPLIANT")],
    )
    def test_owner_from_describe_images(self, owner, expected):
        with ConfigEmulator() as emulator:
            emulator.stub(
                "Ecs",
                "DescribeImages",
                {
                    "Images": {"Image": [{"ImageId": "m-1", "ImageOwnerAlias": owner}]},
                    "TotalCount": 1,
                },
            )
            result = _evaluate(
                "ecs-instance-image-owner-system", {"ImageId": "m-1"}, emulator=emulator
            )
            [call] = emulator.calls_of("DescribeImages")
        assert result["complianceType"] == expected
        assert call.product == "ecs"
        assert call.params == {"ImageId": "m-1", "ShowExpired": "true"}
        assert call.region_id == "cn-hangzhou"

    def test_unknown_image_is_insufficient_data(self):
        with ConfigEmulator() as emulator:
            emulator.stub("Ecs", "DescribeImages", {"Images": {"Image": []}, "TotalCount": 0})
            result = _evaluate(
                "ecs-instance-image-owner-system", {"ImageId": "m-x"}, emulator=emulator
            )
        assert result["complianceType"] == "INSUFFICIENT_DATA"


@pytest.mark.parametrize(
    "rule, change, params, expected",
    [
        ("ecs-instance-no-public-ip", {}, None, "COMPLIANT"),
        (
            "ecs-instance-no-public-ip",
            {"PublicIpAddress": {"IpAddress": ["47.1.2.3"]}},
            None,
            "NON_COMPLIANT",
        ),
        (
            "ecs-instance-no-public-ip",
            {"EipAddress": {"IpAddress": "47.1.2.4"}},
            None,
            "NON_COMPLIANT",
        ),
        ("ecs-instance-deletion-protection-enabled", {}, None, "COMPLIANT"),
        (
            "ecs-instance-deletion-protection-enabled",
            {"DeletionProtection": False},
            None,
            "NON_COMPLIANT",
        ),
        (
            "ecs-desired-instance-type",
            {},
            {"instanceTypes": "ecs.g7.large,ecs.c7.large"},
            "COMPLIANT",
        ),
        (
            "ecs-desired-instance-type",
            {"InstanceType": "ecs.t5-lc1m1.small"},
            {"instanceTypes": "ecs.g7.large"},
            "NON_COMPLIANT",
        ),
        ("ecs-cpu-min-count-limit", {}, {"cpuCount": "2"}, "COMPLIANT"),
        ("ecs-cpu-min-count-limit", {"Cpu": 1}, {"cpuCount": "2"}, "NON_COMPLIANT"),
        ("ecs-instances-in-vpc", {}, None, "COMPLIANT"),
        ("ecs-instances-in-vpc", {}, {"vpcIds": "vpc-1,vpc-2"}, "COMPLIANT"),
        ("ecs-instances-in-vpc", {}, {"vpcIds": "vpc-2"}, "NON_COMPLIANT"),
        ("ecs-instances-in-vpc", {"InstanceNetworkType": "classic"}, None, "NON_COMPLIANT"),
    ],
)
def test_managed_rule_equivalents(rule, change, params, expected):
    result = _evaluate(rule, {**VPC_INSTANCE, **change}, params)
    assert result["complianceType"] == expected


def test_condition_failure_annotation_names_the_failing_clause():
    result = _evaluate("ecs-cpu-min-count-limit", {**VPC_INSTANCE, "Cpu": 1}, {"cpuCount": "4"})
    assert _annotation(result) == {
        "configuration": 1,
        "desiredValue": "4",
        "operator": "GreaterOrEquals",
        "property": "$.Cpu",
    }


def test_condition_rules_require_the_parameters_they_refer_to():
    with pytest.raises(ParamsError, match="cpuCount"):
        rulekit_ecs.ecs_cpu_min_count_limit.parse_params({})
