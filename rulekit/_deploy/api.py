"""Config API requests (2020-09-07) for what the templates cannot express: platform condition
rules (``Conditions`` exists in CreateConfigRule only), and, with ``--format api``, every rule and
the compliance pack. Parameter names are the API's; tests check them against the official SDK's
request models.

Values only known once something exists are written as placeholders, listed in the file:
``${FunctionArn}`` (the deployed function's ARN) and ``${ConfigRuleId:<rule name>}`` (what that
rule's create request returned).

Example::

    files = requests_file(deployment)   # {"config-rules.json": "..."}
"""

from __future__ import annotations

import json
from typing import Any

from .model import ConfigRuleSpec, Deployment

__all__ = [
    "AGGREGATE_RULE_SCOPE",
    "RULE_SCOPE",
    "condition_requests_file",
    "requests_file",
]

#: Scope fields CreateConfigRule takes.
RULE_SCOPE = (
    "RegionIdsScope",
    "ExcludeRegionIdsScope",
    "ResourceGroupIdsScope",
    "ExcludeResourceGroupIdsScope",
    "ResourceIdsScope",
    "ExcludeResourceIdsScope",
    "ResourceNameScope",
    "TagKeyScope",
    "TagValueScope",
    "TagsScope",
    "ExcludeTagsScope",
    "TagKeyLogicScope",
)
#: Scope fields CreateAggregateConfigRule takes: the above and the account-group ones.
AGGREGATE_RULE_SCOPE = (
    *RULE_SCOPE,
    "AccountIdsScope",
    "ExcludeAccountIdsScope",
    "FolderIdsScope",
    "ExcludeFolderIdsScope",
)
FUNCTION_ARN = "${FunctionArn}"


def rule_id_placeholder(spec: ConfigRuleSpec) -> str:
    return f"${{ConfigRuleId:{spec.name}}}"


def _rule_request(d: Deployment, spec: ConfigRuleSpec) -> dict[str, Any]:
    action = "CreateAggregateConfigRule" if d.aggregate else "CreateConfigRule"
    where = f"{action} (--format api)"
    params: dict[str, Any] = {}
    if d.aggregator_id:
        params["AggregatorId"] = d.aggregator_id
    params.update(
        {
            "ConfigRuleName": spec.name,
            "Description": spec.rule.description or spec.name,
            "ConfigRuleTriggerTypes": spec.triggers,
            "RiskLevel": spec.rule.risk_level,
            "ResourceTypesScope": ",".join(spec.rule.resource_types),
        }
    )
    if spec.frequency:
        params["MaximumExecutionFrequency"] = spec.frequency
    accepted = AGGREGATE_RULE_SCOPE if d.aggregate else RULE_SCOPE
    if spec.platform_condition is not None:
        params.update(
            SourceOwner="CUSTOM_CONFIGURATION",
            SourceIdentifier="acs-config-configuration",
            Conditions=json.dumps(spec.platform_condition, ensure_ascii=False),
        )
        params.update(spec.scope_exactly(accepted, where))
    else:
        params.update(SourceOwner="CUSTOM_FC", SourceIdentifier=FUNCTION_ARN)
        params["InputParameters"] = spec.inputs(lambda key: f"${{Parameter:{spec.name}.{key}}}")
        params.update(spec.scope_for(accepted))
    return {"Action": action, "Parameters": params}


def _pack_request(d: Deployment) -> dict[str, Any]:
    action = "CreateAggregateCompliancePack" if d.aggregate else "CreateCompliancePack"
    params: dict[str, Any] = {}
    if d.aggregator_id:
        params["AggregatorId"] = d.aggregator_id
    params.update(
        {
            "CompliancePackName": d.compliance_pack,
            "Description": f"rulekit rules: {', '.join(s.name for s in d.rules)}"[:500],
            "RiskLevel": d.risk_level,
            "ConfigRules": [{"ConfigRuleId": rule_id_placeholder(s)} for s in d.rules],
        }
    )
    return {"Action": action, "Parameters": params}


def _file(requests: list[dict[str, Any]], placeholders: dict[str, str]) -> str:
    document = {
        "about": "Cloud Config API 2020-09-07 requests, in order (docs/deploy.md). Replace each "
        "placeholder before sending.",
        "placeholders": placeholders,
        "requests": requests,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _placeholders(d: Deployment, specs: list[ConfigRuleSpec], pack: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    if any(s.platform_condition is None for s in specs):
        out[FUNCTION_ARN] = (
            f"the ARN of the FC function {d.function_name!r} "
            f"(acs:fc:{d.region}:<account id>:functions/{d.function_name})"
        )
    for spec in specs:
        for p in spec.parameters:
            if p.default is None and spec.platform_condition is None:
                out[f"${{Parameter:{spec.name}.{p.key}}}"] = (
                    f"rule parameter {p.key} of {spec.name} (required)"
                )
    if pack:
        out["${ConfigRuleId:<rule name>}"] = "the ConfigRuleId the rule's create request returned"
    return out


def requests_file(d: Deployment) -> dict[str, str]:
    """``config-rules.json``: every rule (and the compliance pack) as API requests."""
    requests = [_rule_request(d, s) for s in d.rules]
    if d.compliance_pack:
        requests.append(_pack_request(d))
    placeholders = _placeholders(d, d.rules, bool(d.compliance_pack))
    return {"config-rules.json": _file(requests, placeholders)}


def condition_requests_file(d: Deployment) -> dict[str, str]:
    """``platform-condition-rules.json``: the platform condition rules, which no template
    resource can hold, as API requests."""
    specs = d.condition_rules
    if not specs:
        return {}
    requests = [_rule_request(d, s) for s in specs]
    return {"platform-condition-rules.json": _file(requests, _placeholders(d, specs, False))}
