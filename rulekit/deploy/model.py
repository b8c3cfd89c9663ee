"""What a deployment of some rules consists of, derived from the rules' decorator metadata: one
FC function (the shared handler), one Cloud Config rule per rulekit rule, and the RAM role and
policy the function needs. The renderers (Terraform, ROS, Serverless Devs) only format this.

Example::

    deployment = Deployment.from_rules(plugins.rules, packs=["ecs"])
    deployment.actions      # ['config:GetDiscoveredResource', 'config:PutEvaluations', ...]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from ..event import SCHEDULED_NOTIFICATION
from ..lint import api_calls
from ..operators import PLATFORM_OPERATORS
from ..rule import Rule

__all__ = ["BASE_ACTIONS", "ConfigRuleSpec", "Deployment", "Parameter", "identifier"]

#: What every deployment's function does: report results, fetch OVERSIZE configurations.
BASE_ACTIONS = ("config:PutEvaluations", "config:GetDiscoveredResource")
#: The two regions Cloud Config resources (rules) are managed in.
CONFIG_REGIONS = ("cn-shanghai", "ap-southeast-1")
TRUST_POLICY = {
    "Statement": [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": ["fc.aliyuncs.com"]},
        }
    ],
    "Version": "1",
}
_PLATFORM_SCOPE = (
    "RegionIdsScope",
    "ResourceGroupIdsScope",
    "ExcludeResourceIdsScope",
    "TagKeyScope",
    "TagValueScope",
    "TagKeyLogicScope",
)


def identifier(name: str) -> str:
    """A template-safe identifier for a rule name (``ecs-instance-image-check`` ->
    ``ecs_instance_image_check``)."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if not ident[:1].isdigit() else f"r_{ident}"


def _platform_text(value: Any) -> str:
    """A default as the platform sends rule parameters: strings, lists comma-joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Parameter:
    """One rule parameter: its platform key, and its default (None: the operator must set it,
    so templates turn it into a variable / parameter)."""

    key: str
    default: str | None
    description: str = ""


@dataclass
class ConfigRuleSpec:
    """One Cloud Config rule."""

    rule: Rule
    parameters: list[Parameter]
    platform_condition: dict[str, Any] | None = None  # set when exported as a condition rule

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def ident(self) -> str:
        return identifier(self.rule.name)

    @property
    def triggers(self) -> str:
        return ",".join(self.rule.triggers)

    @property
    def frequency(self) -> str | None:
        return self.rule.frequency if SCHEDULED_NOTIFICATION in self.rule.triggers else None

    def scope_fields(self) -> dict[str, str]:
        """The declared scope fields the platform's rule resources accept. Custom rules are
        filtered by the function whatever these say (docs/scope.md); they are informative."""
        api = self.rule.scope.to_api()
        return {k: str(api[k]) for k in _PLATFORM_SCOPE if k in api}


@dataclass
class Deployment:
    """The function, rules and permissions of one deployment."""

    rules: list[ConfigRuleSpec]
    actions: list[str]
    packs: list[str] = field(default_factory=list)
    function_name: str = "rulekit"
    runtime: str = "python3.10"
    region: str = "cn-hangzhou"
    config_region: str = "cn-shanghai"
    memory_size: int = 512
    timeout: int = 600
    role_name: str = "rulekit-fc"
    code: str = "rulekit-fc.zip"
    environment: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rules(
        cls,
        rules: Iterable[Rule],
        *,
        packs: Sequence[str] = (),
        condition_rules: str = "function",
        **settings: Any,
    ) -> Deployment:
        """``condition_rules="platform"``: condition-only rules become platform condition
        rules (no function); the others still run in the function."""
        specs: list[ConfigRuleSpec] = []
        actions = set(BASE_ACTIONS)
        for rule in sorted(rules, key=lambda r: r.name):
            spec = ConfigRuleSpec(rule, _parameters(rule))
            if condition_rules == "platform" and _exportable_condition(rule):
                spec.platform_condition = rule.condition.to_platform()
            specs.append(spec)
            if spec.platform_condition is not None:
                continue
            if SCHEDULED_NOTIFICATION in rule.triggers:
                actions.add("config:ListDiscoveredResources")
            if rule.scope.needs_folders:
                actions.update({"resourcemanager:GetAccount", "resourcemanager:ListAncestors"})
            calls, member = api_calls(rule)
            actions.update(f"{product.lower()}:{action}" for product, action in calls)
            if member:
                actions.add("sts:AssumeRole")
        if not specs:
            raise ConfigurationError(
                "no rules to export: install a pack, set RULEKIT_RULES or pass -p MODULE"
            )
        deployment = cls(specs, sorted(actions), list(packs), **settings)
        if deployment.config_region not in CONFIG_REGIONS:
            raise ConfigurationError(
                f"Cloud Config rules are managed in {CONFIG_REGIONS}, not "
                f"{deployment.config_region!r}"
            )
        if packs:
            deployment.environment.setdefault("RULEKIT_LOAD_PLUGINS", ",".join(packs))
        return deployment

    @property
    def function_rules(self) -> list[ConfigRuleSpec]:
        return [s for s in self.rules if s.platform_condition is None]

    @property
    def condition_rules(self) -> list[ConfigRuleSpec]:
        return [s for s in self.rules if s.platform_condition is not None]

    def policy(self) -> dict[str, Any]:
        return {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": self.actions, "Resource": ["*"]}],
        }


def _parameters(rule: Rule) -> list[Parameter]:
    if rule.params_model is not None:
        return [
            Parameter(f.key, None if f.required else _platform_text(f.default), f.description)
            for f in rule.params_model.param_fields().values()
        ]
    return [Parameter(key, None) for key in rule.required_params]


def _exportable_condition(rule: Rule) -> bool:
    """A platform condition rule has no parameters and only the platform's operators."""
    condition = rule.condition
    if condition is None or condition.params():
        return False
    return all(clause.operator in PLATFORM_OPERATORS for clause in condition.clauses())
