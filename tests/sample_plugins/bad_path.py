"""A rule whose code holds a JSONPath that does not parse."""

from rulekit import Compliance, rule


@rule(resource_type="ACS::ECS::Instance")
def bad_path_rule(resource):
    if resource.get("$.Disks[?(@.Size >"):
        return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT
