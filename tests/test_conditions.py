"""Declarative conditions: the platform's format, operators, annotations, lossless export."""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import pytest

from rulekit import Compliance, Params, ParamsError, Resource, RuleDefinitionError
from rulekit._operators import OPERATORS, PLATFORM_OPERATORS
from rulekit.conditions import all_of, any_of, condition_rule, param, parse_condition, path

CONFIG = {
    "Status": "Running",
    "Cpu": 4,
    "Memory": 8192.0,
    "DeletionProtection": True,
    "InstanceType": "ecs.g7.large",
    "Description": "",
    "UserData": base64.b64encode(b"#!/bin/sh\ncurl http://example\n").decode(),
    "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "pay"}]},
    "SecurityGroupIds": {"SecurityGroupId": ["sg-1", "sg-2"]},
    "Disks": [{"Encrypted": True}, {"Encrypted": False}],
    "Empty": [],
}
R = Resource(
    id="i-1", type="ACS::ECS::Instance", region="cn-hangzhou", account_id="1", configuration=CONFIG
)


def holds(feature: str, operator: str, desired: Any = None) -> bool:
    data: dict[str, Any] = {"featurePath": feature, "operator": operator, "children": []}
    if desired is not None:
        data["desired"] = desired
    return parse_condition(data).failure(R, {}) is None


@pytest.mark.parametrize(
    "feature, operator, desired, expected",
    [
        ("$.Status", "StringEquals", "Running", True),
        ("$.Status", "StringEquals", "running", False),
        ("$.Status", "NotStringEquals", "Stopped", True),
        ("$.Status", "StringIn", "Running,Starting", True),
        ("$.Status", "StringIn", ["Stopped"], False),
        ("$.Status", "NotStringIn", "Stopped,Starting", True),
        ("$.InstanceType", "StringContains", "g7", True),
        ("$.InstanceType", "NotStringContains", "t5", True),
        ("$.Description", "IsStringEmpty", None, True),
        ("$.NoSuchField", "IsStringEmpty", None, True),
        ("$.Status", "IsStringNotEmpty", None, True),
        ("$.InstanceType", "StringMatch", r"^ecs\.(g|c)7\.", True),
        ("$.InstanceType", "NotStringMatch", r"^ecs\.t5", True),
        ("$.DeletionProtection", "StringEquals", "true", True),
        ("$.Cpu", "Equals", "4", True),
        ("$.Memory", "Equals", 8192, True),
        ("$.Cpu", "NotEquals", "2", True),
        ("$.Cpu", "Greater", "2", True),
        ("$.Cpu", "GreaterOrEquals", "4", True),
        ("$.Cpu", "Less", "4", False),
        ("$.Cpu", "LessOrEquals", "4", True),
        ("$.Status", "Greater", "1", False),  # not a number: the clause fails
        ("$.NoSuchField", "GreaterOrEquals", "1", False),
        ("$.UserData", "Base64Contains", "curl", True),
        ("$.UserData", "NotBase64Contains", "wget", True),
        ("$.UserData", "Base64ContainsAll", "curl,#!/bin/sh", True),
        ("$.UserData", "Base64ExcludeAll", "wget,nc -e", True),
        ("$.Status", "Base64Contains", "x", False),  # not base64
        ("$.NoSuchField", "NotStringEquals", "x", False),  # missing data never passes
        ("$.NoSuchField", "NotStringIn", "x,y", False),
        ("$.NoSuchField", "NotEquals", "1", False),
        ("$.NoSuchField", "NotBase64Contains", "x", False),
        ("$.Status", "NotBase64Contains", "x", False),
        ("$.Tags.Tag[*].TagKey", "Contains", "env", True),
        ("$.Tags.Tag[*].TagKey", "Contains", "owner,team", True),
        ("$.Tags.Tag[*].TagKey", "NotContains", "owner", True),
        ("$.Tags.Tag[*].TagKey", "ContainsAll", "env,team", True),
        ("$.Tags.Tag[*].TagKey", "ContainsAll", "env,owner", False),
        ("$.Tags.Tag[*].TagKey", "ExcludeAll", "owner,cost", True),
        ("$.SecurityGroupIds.SecurityGroupId", "In", "sg-1,sg-2,sg-3", True),
        ("$.SecurityGroupIds.SecurityGroupId", "In", "sg-1", False),
        ("$.SecurityGroupIds.SecurityGroupId", "NotIn", "sg-9", True),
        ("$.Empty", "IsEmpty", None, True),
        ("$.SecurityGroupIds.SecurityGroupId", "IsNotEmpty", None, True),
        ("$.NoSuchField", "IsEmpty", None, True),
    ],
)
def test_operator_semantics(feature, operator, desired, expected):
    assert holds(feature, operator, desired) is expected


def test_scalar_operators_on_a_wildcard_result_must_hold_for_every_element():
    assert holds("$.Tags.Tag[*].TagValue", "StringIn", "prod,pay")
    assert not holds("$.Tags.Tag[*].TagValue", "StringEquals", "prod")
    assert not holds("$.Disks[*].Encrypted", "StringEquals", "true")
    assert not holds("$.Nothing[*].X", "StringEquals", "x")  # no element: nothing holds


def test_every_platform_operator_is_implemented():
    for name in (
        "StringEquals",
        "NotStringEquals",
        "StringIn",
        "NotStringIn",
        "StringContains",
        "NotStringContains",
        "IsStringEmpty",
        "Equals",
        "NotEquals",
        "Less",
        "LessOrEquals",
        "Greater",
        "GreaterOrEquals",
        "Base64Contains",
        "NotBase64Contains",
        "Base64ContainsAll",
        "Base64ExcludeAll",
        "Contains",
        "NotContains",
        "In",
        "NotIn",
        "ContainsAll",
        "ExcludeAll",
        "IsEmpty",
    ):
        assert name in OPERATORS and name in PLATFORM_OPERATORS


class TestGroups:
    def test_and_or_nesting(self):
        condition = {
            "operator": "and",
            "children": [
                {
                    "featurePath": "$.Status",
                    "operator": "StringEquals",
                    "desired": "Running",
                    "children": [],
                },
                {
                    "operator": "or",
                    "children": [
                        {
                            "featurePath": "$.Cpu",
                            "operator": "Greater",
                            "desired": "8",
                            "children": [],
                        },
                        {
                            "featurePath": "$.DeletionProtection",
                            "operator": "StringEquals",
                            "desired": "true",
                            "children": [],
                        },
                    ],
                },
            ],
        }
        assert parse_condition(condition).failure(R, {}) is None

    def test_failing_and_reports_its_first_failing_clause(self):
        group = all_of(
            path("$.Status").string_equals("Running"),
            path("$.Cpu").greater("8"),
            path("$.Memory").less("1"),
        )
        assert group.failure(R, {}) == {
            "configuration": 4,
            "desiredValue": "8",
            "operator": "Greater",
            "property": "$.Cpu",
        }

    def test_failing_or_reports_its_first_clause(self):
        group = any_of(path("$.Cpu").greater("8"), path("$.Status").string_equals("Stopped"))
        assert group.failure(R, {})["property"] == "$.Cpu"

    def test_wildcard_annotation_shows_the_array(self):
        group = all_of(path("$.Tags.Tag[*].TagKey").contains("owner"))
        assert group.failure(R, {}) == {
            "configuration": ["env", "team"],
            "desiredValue": ["owner"],
            "operator": "Contains",
            "property": "$.Tags.Tag[*].TagKey",
        }


class TestDefinitionTimeChecks:
    @pytest.mark.parametrize(
        "condition, message",
        [
            (
                {
                    "operator": "and",
                    "children": [{"featurePath": "$.A", "operator": "Bigger", "desired": "1"}],
                },
                r"children\[0\]: unknown operator 'Bigger'",
            ),
            (
                {
                    "operator": "and",
                    "children": [
                        {"featurePath": "$.[", "operator": "StringEquals", "desired": "x"}
                    ],
                },
                r"children\[0\]: invalid JSONPath",
            ),
            (
                {"operator": "xor", "children": [{"featurePath": "$.A", "operator": "IsEmpty"}]},
                "'and' or 'or'",
            ),
            ({"operator": "and", "children": []}, "non-empty children"),
            (
                {
                    "operator": "and",
                    "children": [{"featurePath": "$.A", "operator": "Greater", "desired": "many"}],
                },
                "needs a number",
            ),
            (
                {
                    "operator": "and",
                    "children": [{"featurePath": "$.A", "operator": "StringEquals"}],
                },
                "needs a desired value",
            ),
            (
                {
                    "operator": "and",
                    "children": [
                        {"featurePath": "$.A", "operator": "StringMatch", "desired": "(unclosed"}
                    ],
                },
                "invalid regular expression",
            ),
            (
                {
                    "operator": "or",
                    "children": [
                        {
                            "operator": "and",
                            "children": [{"operator": "Nope", "featurePath": "$.B"}],
                        }
                    ],
                },
                r"children\[0\]\.children\[0\]: unknown operator",
            ),
            ("{not json", "not valid JSON"),
        ],
    )
    def test_bad_conditions_fail_when_the_rule_is_defined(self, condition, message):
        with pytest.raises(RuleDefinitionError, match=message) as caught:
            condition_rule("bad-condition", "ACS::ECS::Instance", condition)
        assert "test_conditions.py:" in str(caught.value)

    def test_builder_errors_name_the_rule_and_its_file_line(self):
        line = sys._getframe().f_lineno + 2
        with pytest.raises(RuleDefinitionError) as caught:
            condition_rule("cpu-rule", "ACS::ECS::Instance", path("$.Cpu").greater("lots"))
        assert str(caught.value).startswith(
            f"rule 'cpu-rule' ({__file__}:{line}): path('$.Cpu').Greater: "
        )
        assert "needs a number" in str(caught.value)
        with pytest.raises(RuleDefinitionError) as bad_path:
            condition_rule(
                "path-rule",
                "ACS::ECS::Instance",
                all_of(path("$.Status").string_equals("Running"), path("$.A[").is_empty()),
            )
        assert str(bad_path.value).startswith(
            f"rule 'path-rule' ({__file__}:{line + 6}): path('$.A[').IsEmpty: "
        )

    def test_parameters_missing_from_the_params_model_are_a_definition_error(self):
        class P(Params):
            cpu_count: int

        with pytest.raises(RuleDefinitionError, match="memorySize"):
            condition_rule(
                "x",
                "ACS::ECS::Instance",
                path("$.Memory").greater_or_equals(param("memorySize")),
                params=P,
            )


class TestExport:
    PLATFORM = {
        "operator": "and",
        "children": [
            {
                "featurePath": "$.Status",
                "featureSource": "CONFIGURATION",
                "operator": "StringEquals",
                "desired": "Running",
                "children": [],
            },
            {
                "operator": "or",
                "children": [
                    {
                        "featurePath": "$.Tags[*].TagKey",
                        "operator": "Contains",
                        "desired": "env",
                        "children": [],
                    },
                    {"featurePath": "$.Description", "operator": "IsStringEmpty", "children": []},
                ],
                "futureKey": {"kept": True},
            },
        ],
    }

    def test_platform_json_round_trips_losslessly(self):
        exported = parse_condition(self.PLATFORM).to_platform()
        assert exported == self.PLATFORM
        assert json.dumps(exported, sort_keys=True) == json.dumps(self.PLATFORM, sort_keys=True)

    def test_json_string_input_round_trips(self):
        text = json.dumps(self.PLATFORM)
        assert parse_condition(text).to_platform() == self.PLATFORM

    def test_builder_produces_exactly_the_platform_format(self):
        built = all_of(
            path("$.Status").string_equals("Running"),
            any_of(
                path("$.Cpu").greater_or_equals(param("cpuCount")),
                path("$.Description").is_string_empty(),
            ),
        )
        assert built.to_platform() == {
            "operator": "and",
            "children": [
                {
                    "featurePath": "$.Status",
                    "operator": "StringEquals",
                    "desired": "Running",
                    "children": [],
                },
                {
                    "operator": "or",
                    "children": [
                        {
                            "featurePath": "$.Cpu",
                            "operator": "GreaterOrEquals",
                            "desired": "{{cpuCount}}",
                            "children": [],
                        },
                        {
                            "featurePath": "$.Description",
                            "operator": "IsStringEmpty",
                            "children": [],
                        },
                    ],
                },
            ],
        }
        again = parse_condition(built.to_platform())
        assert again.to_platform() == built.to_platform()

    def test_rule_keeps_its_condition_for_export(self):
        rule = condition_rule("exported", "ACS::ECS::Instance", self.PLATFORM)
        assert rule.condition.to_platform() == self.PLATFORM


class TestConditionRules:
    def test_true_is_compliant_false_is_non_compliant_with_annotation(self):
        rule = condition_rule(
            "cpu-at-least", "ACS::ECS::Instance", path("$.Cpu").greater_or_equals(param("cpuCount"))
        )
        params = rule.parse_params({"cpuCount": "4"})
        assert rule.evaluate(R, params, None)[0].compliance is Compliance.COMPLIANT
        [ev] = rule.evaluate(R, rule.parse_params({"cpuCount": "8"}), None)
        assert ev.compliance is Compliance.NON_COMPLIANT
        assert ev.annotation == {
            "configuration": 4,
            "desiredValue": "8",
            "operator": "GreaterOrEquals",
            "property": "$.Cpu",
        }

    def test_list_parameters_expand_for_list_operators(self):
        rule = condition_rule(
            "types", "ACS::ECS::Instance", path("$.InstanceType").string_in(param("instanceTypes"))
        )
        ok = rule.evaluate(
            R, rule.parse_params({"instanceTypes": "ecs.c7.large,ecs.g7.large"}), None
        )
        assert ok[0].compliance is Compliance.COMPLIANT

    def test_referenced_parameters_are_required(self):
        rule = condition_rule(
            "needs", "ACS::ECS::Instance", path("$.Cpu").greater(param("cpuCount"))
        )
        with pytest.raises(ParamsError, match="'cpuCount' is required"):
            rule.parse_params({"other": "1"})

    def test_a_typed_params_model_may_back_the_references(self):
        class P(Params):
            cpu_count: int = 2

        rule = condition_rule(
            "typed", "ACS::ECS::Instance", path("$.Cpu").greater(param("cpuCount")), params=P
        )
        assert rule.evaluate(R, rule.parse_params({}), None)[0].compliance is Compliance.COMPLIANT

    def test_metadata_is_passed_through(self):
        rule = condition_rule(
            "meta",
            ["ACS::ECS::Instance", "ACS::ECS::Disk"],
            path("$.Status").is_string_not_empty(),
            risk_level=1,
            description="d",
            frequency="One_Hour",
            scope={"RegionIdsScope": "cn-hangzhou"},
        )
        assert (rule.risk_level, rule.description, rule.frequency) == (1, "d", "One_Hour")
        assert rule.scope.region_ids == ("cn-hangzhou",)
        assert rule.resource_types == ("ACS::ECS::Instance", "ACS::ECS::Disk")

    def test_module_level_condition_rules_are_registered_in_their_module(self):
        import rulekit_ecs

        from rulekit._loader import rules_in_module

        names = [r.name for r in rules_in_module(rulekit_ecs)]
        assert "ecs-instance-no-public-ip" in names and "ecs-instance-image-check" in names
