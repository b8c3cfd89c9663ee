"""rulekit: Alibaba Cloud Config custom rules as one decorated Python function.

Example::

    from rulekit import rule, Compliance, Params

    class ImageParams(Params):
        image_ids: list[str]

    @rule(resource_type="ACS::ECS::Instance", params=ImageParams)
    def ecs_instance_image_check(resource, params):
        if resource["$.ImageId"] in params.image_ids:
            return Compliance.COMPLIANT
        return Compliance.NON_COMPLIANT, f"image {resource['$.ImageId']} is not approved"

A declarative rule in the platform's condition format::

    from rulekit import condition_rule, path

    ecs_in_vpc = condition_rule(
        "ecs-in-vpc", "ACS::ECS::Instance", path("$.InstanceNetworkType").string_equals("vpc")
    )

Deploy with the FC handler ``rulekit.handler.handler`` and ``RULEKIT_RULES=<your module>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import (
    ApiError,
    ConfigurationError,
    CredentialsError,
    DeliveryError,
    EvaluationError,
    EventError,
    ParamsError,
    PluginError,
    RuleDefinitionError,
    RulekitError,
    RuleNotFoundError,
    ScopeError,
    ScopeWarning,
)
from ._evaluation import Compliance, Evaluation
from ._resource import Resource
from ._rule import Rule, rule
from ._scope import Scope

if TYPE_CHECKING:
    from ._context import Context
    from ._hookspecs import hookimpl
    from ._params import Params
    from .conditions import all_of, any_of, condition_rule, param, path

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "Compliance",
    "ConfigurationError",
    "Context",
    "CredentialsError",
    "DeliveryError",
    "Evaluation",
    "EvaluationError",
    "EventError",
    "Params",
    "ParamsError",
    "PluginError",
    "Resource",
    "Rule",
    "RuleDefinitionError",
    "RuleNotFoundError",
    "RulekitError",
    "Scope",
    "ScopeError",
    "ScopeWarning",
    "__version__",
    "all_of",
    "any_of",
    "condition_rule",
    "hookimpl",
    "param",
    "path",
    "rule",
]

# Imported on first use: a rule without parameters never pays for pydantic, nor a Python rule for
# the condition engine (FC cold starts).
_LAZY = {
    "Params": "._params",
    "Context": "._context",
    "hookimpl": "._hookspecs",
    "condition_rule": ".conditions",
    "path": ".conditions",
    "all_of": ".conditions",
    "any_of": ".conditions",
    "param": ".conditions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rulekit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
