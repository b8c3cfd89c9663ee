"""The approved-image rule, unit-level and through the FC handler against the emulator."""

from __future__ import annotations

import pytest
from rulekit_ecs import ecs_instance_image_check

from rulekit import Compliance, ParamsError
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, ConfigEmulator, FCContext, change_event

RULE = ecs_instance_image_check


def _evaluate(configuration: dict, image_ids: str = "m-1,m-2"):
    event = change_event(
        "ACS::ECS::Instance", "i-1", configuration, rule_parameters={"imageIds": image_ids}
    )
    with ConfigEmulator() as emulator:
        run(
            event,
            FCContext(TEST_CREDENTIALS),
            environ=emulator.environ(RULEKIT_RULES="rulekit_ecs"),
        )
        [evaluation] = emulator.evaluations
    return evaluation


def test_metadata():
    assert RULE.name == "ecs-instance-image-check"
    assert RULE.resource_types == ("ACS::ECS::Instance",)
    assert RULE.risk_level == 1


def test_approved_image_is_compliant():
    assert _evaluate({"ImageId": "m-2"})["complianceType"] == "COMPLIANT"


def test_other_image_is_non_compliant_with_a_platform_annotation():
    evaluation = _evaluate({"ImageId": "m-9"})
    assert evaluation["complianceType"] == "NON_COMPLIANT"
    assert evaluation["annotation"] == (
        '{"configuration":"m-9","desiredValue":["m-1","m-2"],'
        '"operator":"In","property":"$.ImageId"}'
    )


def test_missing_image_is_insufficient_data():
    assert _evaluate({})["complianceType"] == "INSUFFICIENT_DATA"


def test_the_parameter_is_required():
    with pytest.raises(ParamsError, match="imageIds"):
        RULE.parse_params({})


def test_the_function_is_plain_python():
    from rulekit import Resource

    resource = Resource(
        id="i",
        type="ACS::ECS::Instance",
        region="r",
        account_id="1",
        configuration={"ImageId": "m-1"},
    )
    assert RULE(resource, RULE.parse_params({"imageIds": "m-1"})) is Compliance.COMPLIANT
