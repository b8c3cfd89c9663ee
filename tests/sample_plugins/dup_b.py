from rulekit import Compliance, rule


@rule(resource_type="ACS::ECS::Instance", name="same-name")
def second(resource):
    return Compliance.COMPLIANT
