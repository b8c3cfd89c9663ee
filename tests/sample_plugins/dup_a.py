from rulekit import Compliance, rule


@rule(resource_type="ACS::ECS::Instance", name="same-name")
def first(resource):
    return Compliance.COMPLIANT
