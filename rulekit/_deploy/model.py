"""What a deployment of some rules consists of, derived from the rules' decorator metadata: one
FC function (the shared handler), one Cloud Config rule per rulekit rule, and the RAM role and
policy the function needs. The renderers (Terraform, ROS, Serverless Devs) only format this.

Example::

    deployment = Deployment.from_rules(plugins.rules, packs=["ecs"])
    deployment.actions      # ['config:GetDiscoveredResource', 'config:PutEvaluations', ...]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._calls import DEFAULT_ROLE_NAME
from .._errors import ConfigurationError
from .._event import SCHEDULED_NOTIFICATION
from .._lint import api_calls
from .._operators import PLATFORM_OPERATORS
from .._rule import RULE_PARAMETER, Rule

__all__ = [
    "ACCOUNT_SCOPE",
    "BASE_ACTIONS",
    "ConfigRuleSpec",
    "Deployment",
    "Parameter",
    "identifier",
    "parameter_variable",
    "refuse_pack_with_condition_rules",
    "required_parameters",
]

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
#: Scope fields only an aggregate (account group) rule can carry.
ACCOUNT_SCOPE = (
    "AccountIdsScope",
    "ExcludeAccountIdsScope",
    "FolderIdsScope",
    "ExcludeFolderIdsScope",
)
#: The role rulekit assumes in member accounts unless RULEKIT_ASSUME_ROLE_NAME says otherwise.
DEFAULT_MEMBER_ROLE = DEFAULT_ROLE_NAME


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

    def inputs(self, reference: Callable[[str], Any]) -> dict[str, Any]:
        """InputParameters: ``rulekitRule`` (which rule the one shared function runs), then each
        parameter's default, or ``reference(key)`` for a required one (a template variable)."""
        inputs: dict[str, Any] = {RULE_PARAMETER: self.name}
        for p in self.parameters:
            inputs[p.key] = p.default if p.default is not None else reference(p.key)
        return inputs

    @property
    def scope(self) -> dict[str, Any]:
        """The declared scope under Config API names (lists comma-joined, tag pairs as
        ``[{"TagKey", "TagValue"}]``), resource types aside."""
        api = self.rule.scope.to_api()
        api.pop("ResourceTypesScope", None)
        return api

    def scope_for(self, accepted: Iterable[str]) -> dict[str, Any]:
        """The scope fields a target accepts, for a *function* rule: the function enforces the
        whole declared scope itself (docs/scope.md), so the template's fields only narrow what
        Config sends it and dropping one never widens what is evaluated. Tag keys joined by AND
        are left out where the target cannot say AND, so the console does not show OR."""
        scope = self.scope
        out = {k: v for k, v in scope.items() if k in accepted}
        if scope.get("TagKeyLogicScope") == "AND" and "TagKeyLogicScope" not in accepted:
            out.pop("TagKeyScope", None)
            out.pop("TagValueScope", None)
        return out

    def scope_exactly(self, accepted: Iterable[str], where: str) -> dict[str, Any]:
        """Every declared scope field, for a rule the *platform* evaluates (a condition rule):
        a field the target cannot carry would widen the rule, so it is refused by name."""
        scope = self.scope
        allowed = set(accepted)
        lost = [k for k in scope if k not in allowed]
        if lost:
            raise ConfigurationError(
                f"rule {self.name!r} declares {', '.join(lost)}, which {where} cannot carry; the "
                "platform would evaluate it on more resources than declared. Export it as a "
                "function rule (--condition-rules function) or drop the field"
            )
        return scope


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
    #: Set: the rules are aggregate (account group) rules of this aggregator.
    aggregator_id: str | None = None
    #: Set: the rules are grouped into a compliance pack of this name.
    compliance_pack: str | None = None
    #: The role the function assumes in member accounts (rules calling ``account_id=``).
    member_role: str = DEFAULT_MEMBER_ROLE
    #: Chained sweeps (RULEKIT_CONTINUE): the function may invoke itself asynchronously.
    continue_sweeps: bool = False

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
        rules (no function); the others still run in the function. ``aggregator_id=``:
        aggregate rules of that account group; without it, a rule scoped to accounts or
        folders is refused."""
        aggregator_id = settings.get("aggregator_id")
        if aggregator_id is not None and not re.fullmatch(r"ca-[A-Za-z0-9]+", aggregator_id):
            raise ConfigurationError(
                f"--aggregator-id takes an account group id such as ca-a4b2626622af0012****, "
                f"got {aggregator_id!r}"
            )
        specs: list[ConfigRuleSpec] = []
        actions = set(BASE_ACTIONS)
        for rule in sorted(rules, key=lambda r: r.name):
            spec = ConfigRuleSpec(rule, _parameters(rule))
            accounts = [k for k in ACCOUNT_SCOPE if k in spec.scope]
            if accounts and aggregator_id is None:
                raise ConfigurationError(
                    f"rule {rule.name!r} declares {', '.join(accounts)}, which only an aggregate "
                    "(account group) rule can carry: export with --aggregator-id ca-..., or drop "
                    "the field for a single-account deployment"
                )
            if condition_rules == "platform" and _exportable_condition(rule):
                spec.platform_condition = rule.condition.to_platform()
            specs.append(spec)
            if spec.platform_condition is not None:
                continue
            if SCHEDULED_NOTIFICATION in rule.triggers:
                # A sweep lists (and fetches) through the aggregator when there is one.
                actions.update(
                    {
                        "config:ListAggregateDiscoveredResources",
                        "config:GetAggregateDiscoveredResource",
                    }
                    if aggregator_id
                    else {"config:ListDiscoveredResources"}
                )
                if rule.reads is not None:  # swept by advanced search (docs/sweeps.md)
                    actions.add(
                        "config:ListAggregateResourcesByAdvancedSearch"
                        if aggregator_id
                        else "config:ListResourcesByAdvancedSearch"
                    )
            if rule.scope.needs_folders:
                actions.update({"resourcemanager:GetAccount", "resourcemanager:ListAncestors"})
            calls, member = api_calls(rule)
            actions.update(f"{product.lower()}:{action}" for product, action in calls)
            if member:
                actions.add("sts:AssumeRole")
        by_ident: dict[str, ConfigRuleSpec] = {}
        for spec in specs:  # one template resource per rule: identifiers must not collide
            other = by_ident.setdefault(spec.ident, spec)
            if other is not spec:
                raise ConfigurationError(
                    f"rules {other.name!r} (pack {other.rule.pack}, {other.rule.location}) and "
                    f"{spec.name!r} (pack {spec.rule.pack}, {spec.rule.location}) would be one "
                    f"template resource {spec.ident!r}: rename one or export the packs apart"
                )
        if not specs:
            raise ConfigurationError(
                "no rules to export: name a pack (folder, entry-point or distribution name) or "
                "install one"
            )
        deployment = cls(specs, sorted(actions), list(packs), **settings)
        if deployment.config_region not in CONFIG_REGIONS:
            raise ConfigurationError(
                f"Cloud Config rules are managed in {CONFIG_REGIONS}, not "
                f"{deployment.config_region!r}"
            )
        env = deployment.environment
        if packs:  # exactly the exported packs, whatever else the zip holds
            env.setdefault("RULEKIT_LOAD_PLUGINS", ",".join(packs))
        if deployment.aggregator_id and deployment.function_rules:
            env.setdefault("RULEKIT_AGGREGATOR_ID", deployment.aggregator_id)
        if "sts:AssumeRole" in deployment.actions and deployment.member_role != (
            DEFAULT_MEMBER_ROLE
        ):
            env.setdefault("RULEKIT_ASSUME_ROLE_NAME", deployment.member_role)
        if deployment.continue_sweeps:
            if not any(
                SCHEDULED_NOTIFICATION in s.rule.triggers for s in deployment.function_rules
            ):
                raise ConfigurationError(
                    "--continue-sweeps chains periodic sweeps, and no exported function rule "
                    "is periodic"
                )
            env.setdefault("RULEKIT_CONTINUE", "true")
        return deployment

    @property
    def aggregate(self) -> bool:
        return self.aggregator_id is not None

    @property
    def risk_level(self) -> int:
        """The compliance pack's risk level: its most severe rule's (1 high .. 3 low)."""
        return min(s.rule.risk_level for s in self.rules)

    @property
    def function_rules(self) -> list[ConfigRuleSpec]:
        return [s for s in self.rules if s.platform_condition is None]

    @property
    def condition_rules(self) -> list[ConfigRuleSpec]:
        return [s for s in self.rules if s.platform_condition is not None]

    def policy(self) -> dict[str, Any]:
        """The function role's policy: the rules' actions on any resource, and AssumeRole only
        on the member-account role the rules assume (in any account)."""
        actions = [a for a in self.actions if a != "sts:AssumeRole"]
        statements: list[dict[str, Any]] = [
            {"Effect": "Allow", "Action": actions, "Resource": ["*"]}
        ]
        if "sts:AssumeRole" in self.actions:
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole"],
                    "Resource": [f"acs:ram::*:role/{self.member_role}"],
                }
            )
        if self.continue_sweeps:
            # Only itself (FC 3.0's function ARN; "/*" for a version or alias, unverified). The
            # account is not known at export time: any account's function of this name here.
            arn = f"acs:fc:{self.region}:*:functions/{self.function_name}"
            statements.append(
                {"Effect": "Allow", "Action": ["fc:InvokeFunction"], "Resource": [arn, f"{arn}/*"]}
            )
        return {"Version": "1", "Statement": statements}


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


def parameter_variable(spec: ConfigRuleSpec, key: str) -> str:
    """The template variable (or ROS parameter) that sets one rule parameter."""
    return f"{spec.ident}_{identifier(key)}"


def required_parameters(deployment: Deployment) -> list[tuple[ConfigRuleSpec, str]]:
    """The rule parameters without a default: each becomes a template input."""
    return [
        (s, p.key) for s in deployment.function_rules for p in s.parameters if p.default is None
    ]


def refuse_pack_with_condition_rules(d: Deployment, fmt: str) -> None:
    """A template format that cannot create platform condition rules cannot pack them."""
    if d.compliance_pack and d.condition_rules:
        raise ConfigurationError(
            f"--compliance-pack with platform condition rules ({d.condition_rules[0].name}, ...): "
            f"{fmt} cannot create those rules, so its pack could not list them. Use --format api "
            "(one pack with every rule) or --condition-rules function"
        )
