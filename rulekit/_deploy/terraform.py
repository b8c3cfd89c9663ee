"""Render a Deployment as Terraform (``main.tf``) for the alicloud provider: providers (the FC
region, and an aliased provider for the Config region), the RAM role and policy,
``alicloud_fcv3_function``, one ``alicloud_config_rule`` (or
``alicloud_config_aggregate_config_rule``) per rule, a compliance pack when asked, a variable per
required rule parameter. Arguments are checked against tests/data/deploy-schemas.

Example::

    files = render_terraform(deployment)
    Path("out/main.tf").write_text(files["main.tf"])
"""

from __future__ import annotations

import json
from typing import Any

from .hcl import Block, Blocks, Expr, block
from .model import (
    TRUST_POLICY,
    ConfigRuleSpec,
    Deployment,
    parameter_variable,
    refuse_pack_with_condition_rules,
    required_parameters,
)

__all__ = ["render_terraform", "terraform_provider_version"]

#: alicloud provider releases that added what the Terraform template uses: ``role_name`` and
#: ``assume_role_policy_document`` of alicloud_ram_role (1.252.0); ``python3.12`` as an
#: alicloud_fcv3_function runtime (1.260.0, provider CHANGELOG).
PROVIDER_BASE = "1.252.0"
PROVIDER_PYTHON312 = "1.260.0"
# Scope fields each Terraform resource has (reference data: tests/data/deploy-schemas).
_TF_RULE_SCOPE = {
    "RegionIdsScope": "region_ids_scope",
    "ResourceGroupIdsScope": "resource_group_ids_scope",
    "ExcludeResourceIdsScope": "exclude_resource_ids_scope",
    "TagKeyScope": "tag_key_scope",
    "TagValueScope": "tag_value_scope",
}
_TF_AGGREGATE_RULE_SCOPE = {**_TF_RULE_SCOPE, "ExcludeTagsScope": "exclude_tags_scope"}


def terraform_provider_version(d: Deployment) -> str:
    return PROVIDER_PYTHON312 if d.runtime == "python3.12" else PROVIDER_BASE


def _tf_rule(d: Deployment, spec: ConfigRuleSpec) -> tuple[str, str]:
    """(resource type, HCL block) of one function rule."""
    kind = "alicloud_config_aggregate_config_rule" if d.aggregate else "alicloud_config_rule"
    body: dict[str, Any] = {"provider": Expr("alicloud.config")}
    if d.aggregate:
        body["aggregate_config_rule_name"] = spec.name
        body["aggregator_id"] = d.aggregator_id
    else:
        body["rule_name"] = spec.name
    body.update(
        {
            "description": spec.rule.description or spec.name,
            "source_owner": "CUSTOM_FC",
            "source_identifier": Expr("alicloud_fcv3_function.rulekit.function_arn"),
            "config_rule_trigger_types": spec.triggers,
            "maximum_execution_frequency": spec.frequency,
            "risk_level": spec.rule.risk_level,
            "resource_types_scope": list(spec.rule.resource_types),
        }
    )
    fields = _TF_AGGREGATE_RULE_SCOPE if d.aggregate else _TF_RULE_SCOPE
    tags: Blocks | None = None
    for api_name, value in spec.scope_for(fields).items():
        if api_name == "ExcludeTagsScope":
            tags = Blocks(Block(tag_key=t["TagKey"], tag_value=t["TagValue"]) for t in value)
        else:
            body[fields[api_name]] = value
    body["input_parameters"] = spec.inputs(lambda key: Expr(f"var.{parameter_variable(spec, key)}"))
    body["exclude_tags_scope"] = tags
    return kind, block(f'resource "{kind}" "{spec.ident}"', body)


def _tf_pack(d: Deployment, kinds: dict[str, str]) -> str:
    ids = Blocks(
        Block(config_rule_id=Expr(f"{kinds[s.name]}.{s.ident}.config_rule_id"))
        for s in d.function_rules
    )
    description = f"rulekit rules: {', '.join(s.name for s in d.rules)}"
    if d.aggregate:
        return block(
            'resource "alicloud_config_aggregate_compliance_pack" "rulekit"',
            {
                "provider": Expr("alicloud.config"),
                "aggregate_compliance_pack_name": d.compliance_pack,
                "aggregator_id": d.aggregator_id,
                "description": description,
                "risk_level": d.risk_level,
                "config_rule_ids": ids,
            },
        )
    return block(
        'resource "alicloud_config_compliance_pack" "rulekit"',
        {
            "provider": Expr("alicloud.config"),
            "compliance_pack_name": d.compliance_pack,
            "description": description,
            "risk_level": d.risk_level,
            "config_rule_ids": ids,
        },
    )


def render_terraform(d: Deployment) -> dict[str, str]:
    refuse_pack_with_condition_rules(d, "Terraform")
    provider = {"source": "aliyun/alicloud", "version": f">= {terraform_provider_version(d)}"}
    parts = [
        block("terraform", {"required_providers": Block(alicloud=provider)}),
        block('variable "region"', {"type": Expr("string"), "default": d.region}),
        block(
            'variable "config_region"',
            {
                "type": Expr("string"),
                "default": d.config_region,
                "description": "Cloud Config rules are managed in cn-shanghai or ap-southeast-1",
            },
        ),
    ]
    for spec, key in required_parameters(d):
        parts.append(
            block(
                f'variable "{parameter_variable(spec, key)}"',
                {
                    "type": Expr("string"),
                    "description": f"rule parameter {key} of {spec.name} (required)",
                },
            )
        )
    parts += [
        block('provider "alicloud"', {"region": Expr("var.region")}),
        block('provider "alicloud"', {"alias": "config", "region": Expr("var.config_region")}),
    ]
    if d.function_rules:
        parts += [
            block(
                'resource "alicloud_ram_role" "rulekit"',
                {
                    "role_name": d.role_name,
                    "assume_role_policy_document": json.dumps(TRUST_POLICY),
                    "description": "Role of the rulekit Cloud Config rules function",
                },
            ),
            block(
                'resource "alicloud_ram_policy" "rulekit"',
                {
                    "policy_name": d.role_name,
                    "policy_document": json.dumps(d.policy()),
                    "description": "What the rulekit rules read and report",
                },
            ),
            block(
                'resource "alicloud_ram_role_policy_attachment" "rulekit"',
                {
                    "role_name": Expr("alicloud_ram_role.rulekit.role_name"),
                    "policy_name": Expr("alicloud_ram_policy.rulekit.policy_name"),
                    "policy_type": "Custom",
                },
            ),
            block(
                'resource "alicloud_fcv3_function" "rulekit"',
                {
                    "function_name": d.function_name,
                    "description": "rulekit: Cloud Config rules",
                    "runtime": d.runtime,
                    "handler": "index.handler",
                    "memory_size": d.memory_size,
                    "timeout": d.timeout,
                    "role": Expr("alicloud_ram_role.rulekit.arn"),
                    "environment_variables": dict(d.environment) or None,
                    "code": Block(zip_file=Expr(f'filebase64("${{path.module}}/{d.code}")')),
                },
            ),
        ]
    kinds: dict[str, str] = {}
    for spec in d.function_rules:
        kinds[spec.name], text = _tf_rule(d, spec)
        parts.append(text)
    if d.compliance_pack and d.function_rules:
        parts.append(_tf_pack(d, kinds))
    return {"main.tf": "\n\n".join(parts) + "\n"}
