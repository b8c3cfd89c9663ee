"""Rules whose code builds JSONPaths at run time, or holds path-like text that is not a path:
valid code the definition-time check must accept. `computed-bad-path` builds one that does not
parse, caught at first use; `raises-in-helper` raises from a helper of the rule's own code."""

from rulekit import Compliance, rule


@rule(resource_type="ACS::RDS::DBInstance")
def rds_net_type(resource):
    name = "DBInstanceNetType"
    if resource.get("$." + name) == "Internet" or resource.get(f"$.{name}X"):
        return Compliance.NON_COMPLIANT, "$.DBInstanceNetType is Internet"
    return Compliance.COMPLIANT


@rule(resource_type="ACS::RDS::DBInstance")
def computed_bad_path(resource):
    broken = "$.Disks[?(@.Size >"
    return Compliance.COMPLIANT if resource.get(broken) else Compliance.NON_COMPLIANT


def _ratio(resource):
    return resource.get("$.Cpu") / resource.get("$.Memory")


@rule(resource_type="ACS::RDS::DBInstance")
def raises_in_helper(resource):
    if _ratio(resource) > 1:
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT
