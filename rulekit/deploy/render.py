"""Render a Deployment as Terraform (HCL), ROS (YAML) or Serverless Devs (s.yaml + ROS).

Formats (docs/deploy.md):
- ``terraform``: ``main.tf``: providers (the FC region, and an aliased provider for the Config
  region), the RAM role and policy, ``alicloud_fcv3_function``, one ``alicloud_config_rule`` per
  rule, a variable per required rule parameter.
- ``ros``: ``template.ros.yaml``: ALIYUN::RAM::Role, ALIYUN::FC3::Function (code from OSS),
  ALIYUN::Config::Rule per rule, a parameter per required rule parameter.
- ``s-yaml``: ``role.ros.yaml`` (deploy first), ``s.yaml`` (component fc3: ``s deploy``), then
  ``config-rules.ros.yaml``.
Condition-only rules exported as platform rules add ``platform-condition-rules.json``: the
CreateConfigRule requests (SourceOwner CUSTOM_CONFIGURATION) for them.

Example::

    files = render(deployment, "terraform")
    Path("out/main.tf").write_text(files["main.tf"])
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..dispatcher import RULE_PARAMETER
from .model import TRUST_POLICY, ConfigRuleSpec, Deployment, identifier

__all__ = ["FORMATS", "render"]

FORMATS = ("terraform", "ros", "s-yaml")


class Expr(str):
    """A raw HCL expression (a reference), written without quotes."""


def _hcl_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else json.dumps(key)


def _hcl_value(value: Any, indent: int) -> str:
    pad = "  " * indent
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # Escape HCL template sequences so literal text is never interpolated.
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_hcl_value(v, indent) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = [
            f"{pad}  {_hcl_key(str(k))} = {_hcl_value(v, indent + 1)}" for k, v in value.items()
        ]
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _hcl_block(header: str, body: dict[str, Any], indent: int = 0) -> str:
    pad = "  " * indent
    lines = [f"{pad}{header} {{"]
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, Block):
            lines.append(_hcl_block(key, value, indent + 1))
        else:
            lines.append(f"{pad}  {key} = {_hcl_value(value, indent + 1)}")
    lines.append(f"{pad}}}")
    return "\n".join(lines)


class Block(dict[str, Any]):
    """A nested HCL block (``code { ... }``) rather than an attribute."""


def _var(spec: ConfigRuleSpec, key: str) -> str:
    return f"{spec.ident}_{identifier(key)}"


def _inputs(spec: ConfigRuleSpec, reference: Any) -> dict[str, Any]:
    # RULE_PARAMETER tells the one shared function which rulekit rule a Config rule runs.
    inputs: dict[str, Any] = {RULE_PARAMETER: spec.name}
    inputs.update(
        {
            p.key: p.default if p.default is not None else reference(_var(spec, p.key))
            for p in spec.parameters
        }
    )
    return inputs


def _required(deployment: Deployment) -> list[tuple[ConfigRuleSpec, str]]:
    return [(s, p.key) for s in deployment.rules for p in s.parameters if p.default is None]


def _terraform(d: Deployment) -> dict[str, str]:
    parts = [
        _hcl_block(
            "terraform",
            {
                "required_providers": Block(
                    alicloud={"source": "aliyun/alicloud", "version": ">= 1.228.0"}
                )
            },
        ),
        _hcl_block('variable "region"', {"type": Expr("string"), "default": d.region}),
        _hcl_block(
            'variable "config_region"',
            {
                "type": Expr("string"),
                "default": d.config_region,
                "description": "Cloud Config rules are managed in cn-shanghai or ap-southeast-1",
            },
        ),
    ]
    for spec, key in _required(d):
        parts.append(
            _hcl_block(
                f'variable "{_var(spec, key)}"',
                {
                    "type": Expr("string"),
                    "description": f"rule parameter {key} of {spec.name} (required)",
                },
            )
        )
    parts += [
        _hcl_block('provider "alicloud"', {"region": Expr("var.region")}),
        _hcl_block('provider "alicloud"', {"alias": "config", "region": Expr("var.config_region")}),
        _hcl_block(
            'resource "alicloud_ram_role" "rulekit"',
            {
                "role_name": d.role_name,
                "assume_role_policy_document": json.dumps(TRUST_POLICY),
                "description": "Role of the rulekit Cloud Config rules function",
            },
        ),
        _hcl_block(
            'resource "alicloud_ram_policy" "rulekit"',
            {
                "policy_name": d.role_name,
                "policy_document": json.dumps(d.policy()),
                "description": "What the rulekit rules read and report",
            },
        ),
        _hcl_block(
            'resource "alicloud_ram_role_policy_attachment" "rulekit"',
            {
                "role_name": Expr("alicloud_ram_role.rulekit.role_name"),
                "policy_name": Expr("alicloud_ram_policy.rulekit.policy_name"),
                "policy_type": "Custom",
            },
        ),
    ]
    if d.function_rules:
        parts.append(
            _hcl_block(
                'resource "alicloud_fcv3_function" "rulekit"',
                {
                    "function_name": d.function_name,
                    "description": "rulekit: Cloud Config rules",
                    "runtime": d.runtime,
                    "handler": "index.handler",
                    "memory_size": d.memory_size,
                    "timeout": d.timeout,
                    "role": Expr("alicloud_ram_role.rulekit.arn"),
                    "environment_variables": d.environment or None,
                    "code": Block(zip_file=Expr(f'filebase64("${{path.module}}/{d.code}")')),
                },
            )
        )
    for spec in d.function_rules:
        body: dict[str, Any] = {
            "provider": Expr("alicloud.config"),
            "rule_name": spec.name,
            "description": spec.rule.description,
            "source_owner": "CUSTOM_FC",
            "source_identifier": Expr("alicloud_fcv3_function.rulekit.function_arn"),
            "config_rule_trigger_types": spec.triggers,
            "maximum_execution_frequency": spec.frequency,
            "risk_level": spec.rule.risk_level,
            "resource_types_scope": list(spec.rule.resource_types),
            "input_parameters": _inputs(spec, lambda name: Expr(f"var.{name}")) or None,
        }
        body.update({_snake(k): v for k, v in spec.scope_fields().items()})
        parts.append(_hcl_block(f'resource "alicloud_config_rule" "{spec.ident}"', body))
    files = {"main.tf": "\n\n".join(parts) + "\n"}
    return files


def _snake(api_name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in api_name)
    return out.lstrip("_")


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
        inputs = _inputs(spec, lambda name: {"Ref": _ros_param(name)})
        if inputs:
            props["InputParameters"] = inputs
        props.update(spec.scope_fields())
        resources[_ros_param(spec.ident)] = {"Type": "ALIYUN::Config::Rule", "Properties": props}
    return resources


def _ros_param(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _ros_parameters(d: Deployment) -> dict[str, Any]:
    return {
        _ros_param(_var(spec, key)): {
            "Type": "String",
            "Description": f"rule parameter {key} of {spec.name} (required)",
        }
        for spec, key in _required(d)
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
    parameters: dict[str, Any] = {
        "CodeBucket": {"Type": "String", "Description": f"OSS bucket holding {d.code}"},
        "CodeObject": {"Type": "String", "Default": d.code},
        **_ros_parameters(d),
    }
    resources: dict[str, Any] = {"Role": _ros_role(d)}
    if d.function_rules:
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
        resources.update(_ros_rules(d, {"Fn::GetAtt": ["Function", "Arn"]}))
    template = {
        "ROSTemplateFormatVersion": "2015-09-01",
        "Description": "rulekit: Cloud Config custom rules and their function. Deploy "
        "in cn-shanghai or ap-southeast-1 (where Config rules live).",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}}},
    }
    return {"template.ros.yaml": _yaml(template)}


def _serverless(d: Deployment) -> dict[str, str]:
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
    header = (
        "# rulekit step 2 of 3 (after role.ros.yaml): s deploy\n"
        "# The function's code is the zip built by: rulekit package\n"
    )
    return {
        "role.ros.yaml": _yaml(role),
        "s.yaml": header + _yaml(syaml),
        "config-rules.ros.yaml": _yaml(rules),
    }


def _platform_conditions(d: Deployment) -> dict[str, str]:
    requests = []
    for spec in d.condition_rules:
        request: dict[str, Any] = {
            "ConfigRuleName": spec.name,
            "Description": spec.rule.description or spec.name,
            "SourceOwner": "CUSTOM_CONFIGURATION",
            "SourceIdentifier": "acs-config-configuration",
            "ConfigRuleTriggerTypes": spec.triggers,
            "RiskLevel": spec.rule.risk_level,
            "ResourceTypesScope": ",".join(spec.rule.resource_types),
            "Conditions": json.dumps(spec.platform_condition, ensure_ascii=False),
        }
        if spec.frequency:
            request["MaximumExecutionFrequency"] = spec.frequency
        request.update(spec.scope_fields())
        requests.append(request)
    return (
        {"platform-condition-rules.json": json.dumps(requests, indent=2, ensure_ascii=False) + "\n"}
        if requests
        else {}
    )


def render(deployment: Deployment, fmt: str) -> dict[str, str]:
    """File name -> content for ``fmt`` (one of FORMATS)."""
    renderers = {"terraform": _terraform, "ros": _ros, "s-yaml": _serverless}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    files = renderers[fmt](deployment)
    files.update(_platform_conditions(deployment))
    return files
