"""A plugin defining an invalid rule (a misspelt resource type)."""

from rulekit import Compliance, rule


@rule(resource_type="ACS::ECS::Instanse")
def typo(resource):
    return Compliance.COMPLIANT
