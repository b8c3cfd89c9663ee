"""Every exported template, in every mode, validated against the reference data
(tests/template_reference.py): Terraform provider arguments and versions, ROS properties and
GetAtt names, Config API request parameters; and terraform-fmt layout."""

from __future__ import annotations

import json

import pytest
import yaml
from template_reference import (
    fmt_problems,
    terraform_resources,
    validate_api,
    validate_ros,
    validate_terraform,
)

from rulekit import ConfigurationError
from rulekit._cli import main
from rulekit._deploy import Deployment, render
from rulekit._plugins import Plugins
from rulekit.handler import run
from rulekit.testing import change_event

PACKS = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "ecs,oss,ram"})
EXTRA = Plugins.from_env(
    {"RULEKIT_LOAD_PLUGINS": ""},
    ["sample_rules.sweeps", "sample_rules.cloud", "sample_rules.scoped"],
)
GROUP = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, ["sample_rules.group_scoped"])
AGGREGATOR = "ca-a4b2626622af0012abcd"


def _rules(aggregate: bool) -> list:
    rules = [*PACKS.rules, *EXTRA.rules]
    return [*rules, *GROUP.rules] if aggregate else rules


def _deployment(
    aggregate=False, pack=None, conditions="function", python="3.10", chained=False
) -> Deployment:
    return Deployment.from_rules(
        _rules(aggregate),
        packs=["ecs", "oss", "ram"],
        condition_rules=conditions,
        runtime=f"python{python}",
        aggregator_id=AGGREGATOR if aggregate else None,
        compliance_pack=pack,
        continue_sweeps=chained,
    )


def _problems(files: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for name, text in files.items():
        if name.endswith(".tf"):
            problems += validate_terraform(text) + fmt_problems(text)
        elif name.endswith(".ros.yaml"):
            problems += validate_ros(yaml.safe_load(text))
        elif name.endswith(".json"):
            problems += validate_api(json.loads(text))
    return problems


MODES = [
    pytest.param({}, id="single"),
    pytest.param({"pack": "rulekit-pack"}, id="single-pack"),
    pytest.param({"conditions": "platform"}, id="single-conditions"),
    pytest.param({"aggregate": True}, id="aggregate"),
    pytest.param({"aggregate": True, "pack": "rulekit-pack"}, id="aggregate-pack"),
    pytest.param({"aggregate": True, "conditions": "platform"}, id="aggregate-conditions"),
    pytest.param({"chained": True}, id="single-chained"),
    pytest.param({"aggregate": True, "chained": True}, id="aggregate-chained"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", ["terraform", "ros", "s-yaml", "api"])
def test_every_export_validates_against_the_reference(fmt, mode):
    deployment = _deployment(**mode)
    if fmt == "ros" and deployment.aggregate:
        with pytest.raises(ConfigurationError, match="ROS cannot deploy aggregate rules"):
            render(deployment, fmt)
        return
    files = render(deployment, fmt)
    assert files
    assert _problems(files) == []


@pytest.mark.parametrize("fmt", ["terraform", "s-yaml"])
def test_python312_exports_validate_with_the_provider_release_that_accepts_it(fmt):
    files = render(_deployment(python="3.12"), fmt)
    assert _problems(files) == []
    if fmt == "terraform":
        assert 'version = ">= 1.260.0"' in files["main.tf"]


def test_the_validator_catches_the_known_defects():
    """The reference data rejects what earlier exports wrote: a sanity check of the check."""
    old = (
        'terraform {\n  required_providers {\n    alicloud = {\n      source  = "aliyun/alicloud"\n'
        '      version = ">= 1.228.0"\n    }\n  }\n}\n\n'
        'resource "alicloud_ram_role" "r" {\n  role_name                   = "x"\n'
        '  assume_role_policy_document = "{}"\n}\n\n'
        'resource "alicloud_config_rule" "x" {\n  rule_name = "x"\n'
        '  tag_key_logic_scope = "AND"\n}\n'
    )
    problems = validate_terraform(old)
    assert "alicloud_config_rule.x: unknown argument tag_key_logic_scope" in problems
    assert any("role_name needs provider 1.252.0" in p for p in problems)
    assert any("missing required argument source_owner" in p for p in problems)
    assert any("not aligned" in p for p in fmt_problems(old))
    ros = {
        "Resources": {
            "Function": {
                "Type": "ALIYUN::FC3::Function",
                "Properties": {"FunctionName": "f", "Handler": "h", "Runtime": "python3.12"},
            },
            "Out": {
                "Type": "ALIYUN::RAM::Role",
                "Properties": {"Bogus": {"Fn::GetAtt": ["Function", "Arn"]}},
            },
        }
    }
    problems = validate_ros(ros)
    assert "ALIYUN::FC3::Function has no GetAtt attribute Arn" in problems
    assert "Function: ROS documents no FC3 runtime python3.12" in problems
    assert "Out (ALIYUN::RAM::Role): unknown property Bogus" in problems


class TestKnownDefects:
    def test_no_tag_key_logic_scope_in_terraform_and_ros_function_arn_is_ARN(self):
        tf = render(_deployment(), "terraform")["main.tf"]
        assert "tag_key_logic_scope" not in tf
        ros = yaml.safe_load(render(_deployment(), "ros")["template.ros.yaml"])
        rule = ros["Resources"]["EcsInstanceImageCheck"]["Properties"]
        assert rule["SourceIdentifier"] == {"Fn::GetAtt": ["Function", "ARN"]}

    def test_ros_refuses_python312(self):
        with pytest.raises(ConfigurationError, match="not python3.12"):
            render(_deployment(python="3.12"), "ros")

    def test_tag_keys_joined_by_and_are_not_written_where_and_cannot_be_said(self):
        bodies = terraform_resources(render(_deployment(), "terraform")["main.tf"])
        scoped = bodies[("alicloud_config_rule", "scoped_function")]
        assert "tag_key_scope" not in scoped  # AND of env, team: Terraform can only say OR
        assert scoped["region_ids_scope"] == '"cn-hangzhou,cn-beijing"'
        ros = yaml.safe_load(render(_deployment(), "ros")["template.ros.yaml"])
        props = ros["Resources"]["ScopedFunction"]["Properties"]
        assert (props["TagKeyScope"], props["TagKeyLogicScope"]) == ("env,team", "AND")


class TestRamPolicy:
    def test_aggregate_sweeps_read_through_the_aggregator(self):
        single, group = _deployment(), _deployment(aggregate=True)
        aggregate_reads = {
            "config:ListAggregateDiscoveredResources",
            "config:GetAggregateDiscoveredResource",
        }
        assert aggregate_reads <= set(group.actions)
        assert not aggregate_reads & set(single.actions)
        assert "config:ListDiscoveredResources" in single.actions

    def test_assume_role_only_on_the_member_role(self):
        policy = _deployment().policy()
        main, assume = policy["Statement"]
        assert "sts:AssumeRole" not in main["Action"]
        assert assume == {
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": ["acs:ram::*:role/ResourceDirectoryAccountAccessRole"],
        }

    def test_a_custom_member_role_reaches_the_policy_and_the_function(self):
        d = Deployment.from_rules(EXTRA.rules, member_role="AuditRole")
        assert d.policy()["Statement"][1]["Resource"] == ["acs:ram::*:role/AuditRole"]
        assert d.environment["RULEKIT_ASSUME_ROLE_NAME"] == "AuditRole"

    def test_the_aggregate_function_sweeps_the_aggregator(self):
        assert _deployment(aggregate=True).environment["RULEKIT_AGGREGATOR_ID"] == AGGREGATOR
        assert "RULEKIT_AGGREGATOR_ID" not in _deployment().environment


class TestPlatformConditionScope:
    def _request(self, files: dict[str, str], name: str) -> dict:
        document = json.loads(files["platform-condition-rules.json"])
        return next(
            r["Parameters"]
            for r in document["requests"]
            if r["Parameters"]["ConfigRuleName"] == name
        )

    def test_every_declared_scope_field_is_carried(self):
        from sample_rules.scoped import ACCOUNT_WIDE

        files = render(_deployment(conditions="platform"), "terraform")
        params = self._request(files, "scoped-condition")
        assert {k: params[k] for k in ACCOUNT_WIDE} == ACCOUNT_WIDE
        assert params["SourceOwner"] == "CUSTOM_CONFIGURATION"

    def test_aggregate_condition_rules_carry_the_account_group_fields(self):
        from sample_rules.scoped import ACCOUNT_WIDE, GROUP_WIDE

        files = render(_deployment(aggregate=True, conditions="platform"), "terraform")
        params = self._request(files, "group-condition")
        wanted = {**ACCOUNT_WIDE, **GROUP_WIDE}
        assert {k: params[k] for k in wanted} == wanted
        assert params["AggregatorId"] == AGGREGATOR

    def test_a_field_the_target_cannot_carry_is_refused_by_name(self):
        spec = next(
            s for s in _deployment(conditions="platform").rules if s.name == "scoped-condition"
        )
        with pytest.raises(ConfigurationError, match="ResourceNameScope.*cannot carry"):
            spec.scope_exactly(
                (
                    "RegionIdsScope",
                    "ExcludeRegionIdsScope",
                    "ResourceGroupIdsScope",
                    "ExcludeResourceGroupIdsScope",
                    "ResourceIdsScope",
                    "ExcludeResourceIdsScope",
                    "TagKeyScope",
                    "TagValueScope",
                    "TagsScope",
                    "ExcludeTagsScope",
                    "TagKeyLogicScope",
                ),
                "somewhere",
            )


def test_two_rules_that_would_be_one_template_resource_are_refused():
    twin = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, ["sample_rules.contract"]).rules
    with pytest.raises(
        ConfigurationError, match="one template resource 'ecs_instance_image_check'"
    ):
        Deployment.from_rules([*PACKS.rules, *twin])


class TestAggregate:
    def test_account_and_folder_scopes_are_refused_for_one_account(self):
        with pytest.raises(ConfigurationError, match=r"AccountIdsScope.*--aggregator-id"):
            Deployment.from_rules(GROUP.rules)

    def test_a_bad_aggregator_id_is_refused(self):
        with pytest.raises(ConfigurationError, match="account group id"):
            Deployment.from_rules(PACKS.rules, aggregator_id="123")

    def test_terraform_aggregate_rules_and_pack(self):
        files = render(_deployment(aggregate=True, pack="org-pack"), "terraform")
        resources = terraform_resources(files["main.tf"])
        rule = resources[("alicloud_config_aggregate_config_rule", "group_function")]
        assert rule["aggregator_id"] == f'"{AGGREGATOR}"'
        assert rule["exclude_tags_scope"] == [
            {"tag_key": '"skip"', "tag_value": '"yes"', "__is_block__": True}
        ]
        assert not any(kind == "alicloud_config_rule" for kind, _ in resources)
        pack = resources[("alicloud_config_aggregate_compliance_pack", "rulekit")]
        assert pack["aggregate_compliance_pack_name"] == '"org-pack"'
        assert len(pack["config_rule_ids"]) == len(_deployment(aggregate=True).function_rules)
        assert pack["risk_level"] == 1

    def test_api_aggregate_requests_and_pack(self):
        document = json.loads(
            render(_deployment(aggregate=True, pack="org-pack", conditions="platform"), "api")[
                "config-rules.json"
            ]
        )
        actions = [r["Action"] for r in document["requests"]]
        assert set(actions[:-1]) == {"CreateAggregateConfigRule"}
        assert actions[-1] == "CreateAggregateCompliancePack"
        pack = document["requests"][-1]["Parameters"]
        assert pack["AggregatorId"] == AGGREGATOR
        assert {"ConfigRuleId": "${ConfigRuleId:group-function}"} in pack["ConfigRules"]
        assert len(pack["ConfigRules"]) == len(actions) - 1
        rules = document["requests"][:-1]
        by_name = {r["Parameters"]["ConfigRuleName"]: r["Parameters"] for r in rules}
        function_rule = by_name["group-function"]
        assert function_rule["SourceIdentifier"] == "${FunctionArn}"
        assert (function_rule["AccountIdsScope"], function_rule["FolderIdsScope"]) == (
            "111,222",
            "fd-1",
        )
        assert "${FunctionArn}" in document["placeholders"]

    def test_s_yaml_aggregate_rules_step_is_api_requests(self):
        files = render(_deployment(aggregate=True), "s-yaml")
        assert "config-rules.ros.yaml" not in files
        assert json.loads(files["config-rules.json"])["requests"][0]["Action"] == (
            "CreateAggregateConfigRule"
        )


class TestCompliancePack:
    def test_terraform_single_account_pack_lists_every_rule(self):
        resources = terraform_resources(render(_deployment(pack="p"), "terraform")["main.tf"])
        pack = resources[("alicloud_config_compliance_pack", "rulekit")]
        ids = [b["config_rule_id"] for b in pack["config_rule_ids"]]
        rules = [name for kind, name in resources if kind == "alicloud_config_rule"]
        assert ids == [f"${{alicloud_config_rule.{n}.config_rule_id}}" for n in rules]

    def test_ros_pack_refers_to_the_rules_it_creates(self):
        template = yaml.safe_load(render(_deployment(pack="p"), "ros")["template.ros.yaml"])
        pack = template["Resources"]["CompliancePack"]
        assert pack["Type"] == "ALIYUN::Config::CompliancePack"
        assert {"ConfigRuleId": {"Fn::GetAtt": ["EcsInstanceImageCheck", "ConfigRuleId"]}} in (
            pack["Properties"]["ConfigRules"]
        )

    def test_a_pack_with_platform_condition_rules_needs_the_api_format(self):
        with pytest.raises(ConfigurationError, match="--format api"):
            render(_deployment(pack="p", conditions="platform"), "terraform")
        files = render(_deployment(pack="p", conditions="platform"), "api")
        assert _problems(files) == []


class TestCli:
    def test_aggregate_pack_in_the_api_format(self, tmp_path, capsys):
        argv = ["export", "--format", "api", "-o", str(tmp_path), "--aggregator-id", AGGREGATOR]
        assert main([*argv, "--compliance-pack", "org-pack"]) == 0
        document = json.loads((tmp_path / "config-rules.json").read_text())
        assert validate_api(document) == []
        assert document["requests"][-1]["Action"] == "CreateAggregateCompliancePack"
        assert document["requests"][-1]["Parameters"]["CompliancePackName"] == "org-pack"

    def test_ros_refuses_aggregate_rules_with_the_reason(self, tmp_path, capsys):
        argv = ["export", "--format", "ros", "-o", str(tmp_path), "--aggregator-id", AGGREGATOR]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "ROS cannot deploy aggregate rules" in err and "ConfigRuleId" in err
        assert not (tmp_path / "template.ros.yaml").exists()


def test_the_function_enforces_account_scope_of_an_aggregate_rule(emulator, fc_context):
    """Terraform's aggregate rule has no account_ids_scope: the function filters by itself."""
    env = emulator.environ(
        RULEKIT_RULES="sample_rules.group_scoped", RULEKIT_RULE="account-function"
    )
    results = {}
    for account in ("111", "999"):
        event = change_event("ACS::OSS::Bucket", "bucket-a", {}, account_id=account)
        results[account] = run(event, fc_context, environ=env)
    verdicts = {str(e["accountId"]): e["complianceType"] for e in emulator.evaluations}
    assert verdicts == {"111": "COMPLIANT", "999": "NOT_APPLICABLE"}
    assert all(r["delivered"] == 1 for r in results.values())


class TestChainedSweeps:
    """``export --continue-sweeps``: the function may invoke itself (fc:InvokeFunction on its
    own ARN only) and is told to (RULEKIT_CONTINUE), in every format."""

    GRANT = {
        "Effect": "Allow",
        "Action": ["fc:InvokeFunction"],
        "Resource": [
            "acs:fc:cn-hangzhou:*:functions/rulekit",
            "acs:fc:cn-hangzhou:*:functions/rulekit/*",
        ],
    }

    def test_the_policy_grants_invoking_itself_only_when_on(self):
        assert self.GRANT in _deployment(chained=True).policy()["Statement"]
        assert "fc:InvokeFunction" not in json.dumps(_deployment().policy())
        assert "RULEKIT_CONTINUE" not in _deployment().environment

    def test_terraform_carries_the_grant_and_the_setting(self):
        bodies = terraform_resources(render(_deployment(chained=True), "terraform")["main.tf"])
        policy = json.loads(
            json.loads(bodies[("alicloud_ram_policy", "rulekit")]["policy_document"])
        )
        assert self.GRANT in policy["Statement"]
        function = bodies[("alicloud_fcv3_function", "rulekit")]
        assert function["environment_variables"]["RULEKIT_CONTINUE"] == '"true"'  # (HCL text)

    def test_ros_carries_the_grant_and_the_setting(self):
        ros = yaml.safe_load(render(_deployment(chained=True), "ros")["template.ros.yaml"])
        (policy,) = ros["Resources"]["Role"]["Properties"]["Policies"]
        assert self.GRANT in policy["PolicyDocument"]["Statement"]
        variables = ros["Resources"]["Function"]["Properties"]["EnvironmentVariables"]
        assert variables["RULEKIT_CONTINUE"] == "true"

    def test_the_setting_it_writes_is_one_the_handler_reads(self):
        from rulekit._settings import Settings

        environment = _deployment(chained=True).environment
        assert Settings.from_env(environment).sweep.continue_sweep is True

    def test_without_a_periodic_function_rule_it_is_refused(self):
        change_only = [r for r in PACKS.rules if "ScheduledNotification" not in r.triggers]
        with pytest.raises(ConfigurationError, match="no exported function rule is periodic"):
            Deployment.from_rules(change_only, continue_sweeps=True)
