"""Rules for the --require-coverage report: a Python rule and a condition rule whose
fixtures (written by the tests) leave gaps, and a rule with no fixture at all."""

from rulekit import Compliance, rule
from rulekit.conditions import all_of, any_of, condition_rule, path


@rule(resource_type="ACS::ECS::Instance")
def cov_python(resource):
    return Compliance.COMPLIANT if resource.get("$.Ok") else Compliance.NON_COMPLIANT


cov_condition = condition_rule(
    "cov-condition",
    "ACS::ECS::Instance",
    all_of(
        path("$.Status").string_equals("Running"),
        any_of(path("$.Cpu").greater_or_equals(2), path("$.Memory").greater_or_equals(4096)),
    ),
)


@rule(resource_type="ACS::ECS::Instance")
def cov_unfixtured(resource):
    return Compliance.COMPLIANT
