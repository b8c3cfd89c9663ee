"""rulekit export: templates from rule metadata, parsed by real parsers."""

from __future__ import annotations

import json

import hcl2
import pytest
import yaml

from rulekit._cli import main
from rulekit._deploy import Deployment, render
from rulekit._plugins import Plugins
from rulekit.handler import run
from rulekit.testing import change_event

PACKS = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "ecs,oss,ram"})


def _deployment(**kwargs) -> Deployment:
    return Deployment.from_rules(PACKS.rules, packs=["ecs", "oss", "ram"], **kwargs)


def _unquote(value):
    return value.strip('"') if isinstance(value, str) else value


class TestModel:
    def test_the_role_allows_what_the_rules_do(self):
        d = _deployment()
        assert d.actions == [
            "config:GetDiscoveredResource",
            "config:PutEvaluations",
            "ecs:DescribeImages",
            "ram:GetUserMFAInfo",
        ]

    def test_scheduled_rules_folders_and_member_accounts_add_actions(self):
        rules = Plugins.from_env(
            {"RULEKIT_LOAD_PLUGINS": ""}, ["sample_rules.sweeps", "sample_rules.cloud"]
        ).rules
        d = Deployment.from_rules(rules)
        assert "config:ListDiscoveredResources" in d.actions
        assert {
            "vpc:DescribeFlowLogs",
            "ecs:DescribeInstances",
            "ecs:ListTagResources",
            "sts:AssumeRole",
        } <= set(d.actions)

    def test_scheduled_rules_with_declared_reads_may_search(self):
        rules = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, ["sample_rules.searched"]).rules
        assert "config:ListResourcesByAdvancedSearch" in Deployment.from_rules(rules).actions
        aggregate = Deployment.from_rules(rules, aggregator_id="ca-1").actions
        assert "config:ListAggregateResourcesByAdvancedSearch" in aggregate
        undeclared = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, ["sample_rules.sweeps"]).rules
        assert not any("AdvancedSearch" in a for a in Deployment.from_rules(undeclared).actions)

    def test_required_parameters_and_defaults(self):
        specs = {s.name: s for s in _deployment().rules}
        image = specs["ecs-instance-image-check"].parameters
        assert [(p.key, p.default) for p in image] == [("imageIds", None)]
        vpc = specs["ecs-instances-in-vpc"].parameters
        assert [(p.key, p.default) for p in vpc] == [("vpcIds", "")]

    def test_condition_rules_can_become_platform_condition_rules(self):
        d = _deployment(condition_rules="platform")
        platform = {s.name for s in d.condition_rules}
        assert "oss-bucket-public-read-prohibited" in platform
        assert "ecs-cpu-min-count-limit" not in platform  # refers to a parameter
        assert "ecs-instance-image-check" in {s.name for s in d.function_rules}

    def test_config_rules_live_in_the_two_config_regions(self):
        from rulekit import ConfigurationError

        with pytest.raises(ConfigurationError, match="cn-shanghai"):
            _deployment(config_region="cn-hangzhou")


class TestTerraform:
    def test_parses_with_a_real_hcl_parser_and_has_every_rule(self):
        tf = hcl2.loads(render(_deployment(), "terraform")["main.tf"])
        resources = {}
        for block in tf["resource"]:
            for kind, named in block.items():
                for name, body in named.items():
                    resources[(_unquote(kind), _unquote(name))] = body
        function = resources[("alicloud_fcv3_function", "rulekit")]
        assert _unquote(function["handler"]) == "index.handler"
        assert _unquote(function["runtime"]) == "python3.10"
        rules = {
            name: body for (kind, name), body in resources.items() if kind == "alicloud_config_rule"
        }
        assert len(rules) == 13
        image = rules["ecs_instance_image_check"]
        assert _unquote(image["source_owner"]) == "CUSTOM_FC"
        assert "function_arn" in image["source_identifier"]
        assert _unquote(image["config_rule_trigger_types"]) == "ConfigurationItemChangeNotification"
        assert image["risk_level"] == 1
        assert image["input_parameters"] == {
            "rulekitRule": '"ecs-instance-image-check"',
            "imageIds": "${var.ecs_instance_image_check_imageIds}",
        }
        variables = {_unquote(k) for block in tf["variable"] for k in block}
        assert "ecs_instance_image_check_imageIds" in variables
        policy = json.loads(
            json.loads(resources[("alicloud_ram_policy", "rulekit")]["policy_document"])
        )
        assert "config:PutEvaluations" in policy["Statement"][0]["Action"]

    def test_scope_and_frequency_are_carried(self, tmp_path):
        rules = Plugins.from_env(
            {"RULEKIT_LOAD_PLUGINS": ""}, ["sample_rules.contract", "sample_rules.sweeps"]
        ).rules
        text = render(Deployment.from_rules(rules), "terraform")["main.tf"]
        tf = hcl2.loads(text)
        bodies = {
            _unquote(n): b
            for block in tf["resource"]
            for k, named in block.items()
            if "config_rule" in k
            for n, b in named.items()
        }
        contract = bodies["ecs_instance_image_check"]
        assert (_unquote(contract["tag_key_scope"]), _unquote(contract["tag_value_scope"])) == (
            "env",
            "prod",
        )
        sweep = bodies["image_is_approved"]
        assert _unquote(sweep["maximum_execution_frequency"]) == "One_Hour"
        assert _unquote(sweep["config_rule_trigger_types"]) == "ScheduledNotification"


class TestRos:
    def test_template_structure(self):
        template = yaml.safe_load(render(_deployment(), "ros")["template.ros.yaml"])
        assert template["ROSTemplateFormatVersion"] == "2015-09-01"
        resources = template["Resources"]
        assert resources["Function"]["Type"] == "ALIYUN::FC3::Function"
        assert resources["Role"]["Type"] == "ALIYUN::RAM::Role"
        rules = [r for r in resources.values() if r["Type"] == "ALIYUN::Config::Rule"]
        assert len(rules) == 13
        image = resources["EcsInstanceImageCheck"]["Properties"]
        assert image["SourceIdentifier"] == {"Fn::GetAtt": ["Function", "ARN"]}
        assert image["InputParameters"]["imageIds"] == {"Ref": "EcsInstanceImageCheckImageIds"}
        assert "EcsInstanceImageCheckImageIds" in template["Parameters"]


class TestServerlessDevs:
    def test_s_yaml_with_fc3_and_the_ros_steps(self):
        files = render(_deployment(condition_rules="platform"), "s-yaml")
        s = yaml.safe_load(files["s.yaml"])
        assert s["edition"] == "3.0.0"
        fn = s["resources"]["rulekit"]
        assert fn["component"] == "fc3"
        assert fn["props"]["handler"] == "index.handler"
        assert fn["props"]["code"] == "./rulekit-fc.zip"
        assert fn["props"]["environmentVariables"]["RULEKIT_LOAD_PLUGINS"] == "ecs,oss,ram"
        role = yaml.safe_load(files["role.ros.yaml"])
        assert role["Resources"]["Role"]["Properties"]["RoleName"] == "rulekit-fc"
        rules = yaml.safe_load(files["config-rules.ros.yaml"])["Resources"]
        assert len(rules) == 6  # the function rules; 7 are platform condition rules
        requests = json.loads(files["platform-condition-rules.json"])["requests"]
        assert len(requests) == 7
        assert {r["Action"] for r in requests} == {"CreateConfigRule"}
        first = requests[0]["Parameters"]
        assert first["SourceOwner"] == "CUSTOM_CONFIGURATION"
        assert json.loads(first["Conditions"])["operator"] in ("and", "or")


def test_the_rulekit_rule_parameter_selects_the_rule_in_one_shared_function(emulator, fc_context):
    env = emulator.environ(RULEKIT_RULES="sample_rules.contract,sample_rules.many")
    event = change_event(
        "ACS::ECS::Instance",
        "i-1",
        {"ImageId": "m-1"},
        rule_parameters={"rulekitRule": "always-compliant"},
    )
    assert run(event, fc_context, environ=env)["rule"] == "always-compliant"


def test_cli_export_writes_the_files(tmp_path, capsys):
    assert main(["export", "--format", "terraform", "-o", str(tmp_path), "--python", "3.12"]) == 0
    text = (tmp_path / "main.tf").read_text()
    assert 'runtime       = "python3.12"' in text and "rulekit-fc-py312.zip" in text
    assert "role actions: config:GetDiscoveredResource" in capsys.readouterr().out
    assert (
        main(["export", "--format", "ros", "-o", str(tmp_path), "--rule", "nope"]) == 2
    )  # an unknown rule name: usage
