"""Render a Deployment as Terraform (HCL), ROS (YAML), Serverless Devs (s.yaml + ROS) or Config
API requests (JSON).

Formats (docs/deploy.md):
- ``terraform`` (terraform.py): ``main.tf``: providers (the FC region, and an aliased provider
  for the Config region), the RAM role and policy, ``alicloud_fcv3_function``, one
  ``alicloud_config_rule`` (or ``alicloud_config_aggregate_config_rule``) per rule, a compliance
  pack when asked, a variable per required rule parameter.
- ``ros``: ``template.ros.yaml``: ALIYUN::RAM::Role, ALIYUN::FC3::Function (code from OSS),
  ALIYUN::Config::Rule per rule, ALIYUN::Config::CompliancePack when asked. ROS has no aggregate
  rule type, so aggregate exports are refused.
- ``s-yaml``: ``role.ros.yaml`` (deploy first), ``s.yaml`` (component fc3: ``s deploy``), then
  ``config-rules.ros.yaml`` (single account) or ``config-rules.json`` (aggregate).
- ``api``: ``config-rules.json``: CreateConfigRule / CreateAggregateConfigRule and
  CreateCompliancePack / CreateAggregateCompliancePack requests.
Condition-only rules exported as platform rules add ``platform-condition-rules.json`` (the API
requests for them) to the template formats.

Example::

    files = render(deployment, "terraform")
    Path("out/main.tf").write_text(files["main.tf"])
"""

from __future__ import annotations

from typing import Any

from .._errors import ConfigurationError
from .api import condition_requests_file, requests_file
from .model import (
    TRUST_POLICY,
    Deployment,
    parameter_variable,
    refuse_pack_with_condition_rules,
    required_parameters,
)
from .terraform import render_terraform

__all__ = ["FORMATS", "ROS_RUNTIMES", "render"]

FORMATS = ("terraform", "ros", "s-yaml", "api")

#: The runtimes ALIYUN::FC3::Function documents (ROS resource reference, Dec 2025): no
#: python3.12.
ROS_RUNTIMES = ("python3", "python3.9", "python3.10")

# Scope fields each template resource has (reference data: tests/data/deploy-schemas).
_ROS_RULE_SCOPE = (
    "RegionIdsScope",
    "ResourceGroupIdsScope",
    "ExcludeResourceIdsScope",
    "TagKeyScope",
    "TagValueScope",
    "TagKeyLogicScope",
)


def _ros_param(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _ros_rules(d: Deployment, function_arn: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for spec in d.function_rules:
        props: dict[str, Any] = {
            "RuleName": spec.name,
            "Description": spec.rule.description or spec.name,
            "SourceOwner": "CUSTOM_FC",
            "SourceIdentifier": function_arn,
            "ConfigRuleTriggerTypes": spec.triggers,
            "RiskLevel": spec.rule.risk_level,
            "ResourceTypesScope": list(spec.rule.resource_types),
        }
        if spec.frequency:
            props["MaximumExecutionFrequency"] = spec.frequency
        props["InputParameters"] = spec.inputs(
            lambda key, spec=spec: {"Ref": _ros_param(parameter_variable(spec, key))}  # type: ignore[misc]
        )
        props.update(spec.scope_for(_ROS_RULE_SCOPE))
        resources[_ros_param(spec.ident)] = {"Type": "ALIYUN::Config::Rule", "Properties": props}
    if d.compliance_pack and resources:
        resources["CompliancePack"] = {
            "Type": "ALIYUN::Config::CompliancePack",
            "Properties": {
                "CompliancePackName": d.compliance_pack,
                "Description": f"rulekit rules: {', '.join(s.name for s in d.rules)}",
                "RiskLevel": d.risk_level,
                "ConfigRules": [
                    {"ConfigRuleId": {"Fn::GetAtt": [name, "ConfigRuleId"]}} for name in resources
                ],
            },
        }
    return resources


def _ros_parameters(d: Deployment) -> dict[str, Any]:
    return {
        _ros_param(parameter_variable(spec, key)): {
            "Type": "String",
            "Description": f"rule parameter {key} of {spec.name} (required)",
        }
        for spec, key in required_parameters(d)
    }


def _ros_role(d: Deployment) -> dict[str, Any]:
    return {
        "Type": "ALIYUN::RAM::Role",
        "Properties": {
            "RoleName": d.role_name,
            "AssumeRolePolicyDocument": TRUST_POLICY,
            "Description": "Role of the rulekit Cloud Config rules function",
            "Policies": [{"PolicyName": d.role_name, "PolicyDocument": d.policy()}],
        },
    }


def _yaml(data: Any) -> str:
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))


def _ros(d: Deployment) -> dict[str, str]:
    if d.aggregate:
        raise ConfigurationError(
            "ROS cannot deploy aggregate rules: it has no aggregate rule resource type, and "
            "ALIYUN::Config::AggregateCompliancePack only lists managed rules "
            "(ManagedRuleIdentifier) or rules that already exist (ConfigRuleId); it cannot create "
            "a CUSTOM_FC rule. Use --format terraform, --format api, or --format s-yaml (its "
            "rules step is then API requests)"
        )
    refuse_pack_with_condition_rules(d, "ROS")
    if d.function_rules and d.runtime not in ROS_RUNTIMES:
        raise ConfigurationError(
            f"ALIYUN::FC3::Function documents the runtimes {', '.join(ROS_RUNTIMES)}, not "
            f"{d.runtime}: export --python 3.10 for ROS, or use --format terraform / s-yaml "
            "for Python 3.12"
        )
    parameters: dict[str, Any] = {
        "CodeBucket": {"Type": "String", "Description": f"OSS bucket holding {d.code}"},
        "CodeObject": {"Type": "String", "Default": d.code},
        **_ros_parameters(d),
    }
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    if d.function_rules:
        resources["Role"] = _ros_role(d)
        function: dict[str, Any] = {
            "FunctionName": d.function_name,
            "Runtime": d.runtime,
            "Handler": "index.handler",
            "MemorySize": d.memory_size,
            "Timeout": d.timeout,
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {
                "OssBucketName": {"Ref": "CodeBucket"},
                "OssObjectName": {"Ref": "CodeObject"},
            },
        }
        if d.environment:
            function["EnvironmentVariables"] = dict(d.environment)
        resources["Function"] = {
            "Type": "ALIYUN::FC3::Function",
            "Properties": function,
            "DependsOn": ["Role"],
        }
        resources.update(_ros_rules(d, {"Fn::GetAtt": ["Function", "ARN"]}))
        outputs = {
            "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}},
            "FunctionArn": {"Value": {"Fn::GetAtt": ["Function", "ARN"]}},
        }
    else:
        del parameters["CodeBucket"], parameters["CodeObject"]
    template: dict[str, Any] = {
        "ROSTemplateFormatVersion": "2015-09-01",
        "Description": "rulekit: Cloud Config custom rules and their function. Deploy "
        "in cn-shanghai or ap-southeast-1 (where Config rules live).",
        "Parameters": parameters,
        "Resources": resources,
    }
    if outputs:
        template["Outputs"] = outputs
    return {"template.ros.yaml": _yaml(template)}


def _serverless(d: Deployment) -> dict[str, str]:
    if not d.aggregate:
        refuse_pack_with_condition_rules(d, "ROS (the rules step of s-yaml)")
    role_arn = f"acs:ram::${{config('AccountID')}}:role/{d.role_name}"
    props: dict[str, Any] = {
        "region": "${vars.region}",
        "functionName": d.function_name,
        "description": "rulekit: Cloud Config rules",
        "runtime": d.runtime,
        "code": f"./{d.code}",
        "handler": "index.handler",
        "memorySize": d.memory_size,
        "timeout": d.timeout,
        "role": role_arn,
    }
    if d.environment:
        props["environmentVariables"] = dict(d.environment)
    syaml = {
        "edition": "3.0.0",
        "name": "rulekit",
        "access": "default",
        "vars": {"region": d.region},
        "resources": {"rulekit": {"component": "fc3", "props": props}},
    }
    role = {
        "ROSTemplateFormatVersion": "2015-09-01",
        "Description": "rulekit step 1 of 3: the function's role (then: s deploy)",
        "Resources": {"Role": _ros_role(d)},
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}}},
    }
    header = (
        "# rulekit step 2 of 3 (after role.ros.yaml): s deploy\n"
        "# The function's code is the zip built by: rulekit package\n"
    )
    files = {"role.ros.yaml": _yaml(role), "s.yaml": header + _yaml(syaml)}
    if d.aggregate:  # ROS has no aggregate rules: step 3 is the API requests
        files.update(requests_file(d))
        return files
    arn = {
        "Fn::Sub": [
            "acs:fc:${FunctionRegion}:${ALIYUN::AccountId}:functions/" + d.function_name,
            {"FunctionRegion": {"Ref": "FunctionRegion"}},
        ]
    }
    rules = {
        "ROSTemplateFormatVersion": "2015-09-01",
        "Description": "rulekit step 3 of 3: one Cloud Config rule per rulekit rule. Deploy "
        "in cn-shanghai or ap-southeast-1 after s deploy.",
        "Parameters": {
            "FunctionRegion": {"Type": "String", "Default": d.region},
            **_ros_parameters(d),
        },
        "Resources": _ros_rules(d, arn),
    }
    files["config-rules.ros.yaml"] = _yaml(rules)
    return files


def render(deployment: Deployment, fmt: str) -> dict[str, str]:
    """File name -> content for ``fmt`` (one of FORMATS)."""
    if fmt == "api":
        return requests_file(deployment)
    renderers = {"terraform": render_terraform, "ros": _ros, "s-yaml": _serverless}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    files = renderers[fmt](deployment)
    if not (fmt == "s-yaml" and deployment.aggregate):  # there, config-rules.json has them all
        files.update(condition_requests_file(deployment))
    return files
