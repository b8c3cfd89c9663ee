"""Rules scoped to accounts and folders of an account group (aggregate exports only)."""

from rulekit import Compliance, rule
from rulekit.conditions import condition_rule, path

from .scoped import ACCOUNT_WIDE, GROUP_WIDE

group_condition = condition_rule(
    "group-condition",
    "ACS::OSS::Bucket",
    path("$.AccessControlList.Grant").not_string_equals("public-read-write"),
    scope={**ACCOUNT_WIDE, **GROUP_WIDE},
    description="A platform condition rule with every scope field an aggregate rule has.",
)


@rule(resource_type="ACS::OSS::Bucket", scope={**ACCOUNT_WIDE, **GROUP_WIDE}, risk_level=3)
def group_function(resource):
    """A function rule scoped to accounts and folders."""
    return Compliance.COMPLIANT


@rule(resource_type="ACS::OSS::Bucket", scope={"AccountIdsScope": "111"})
def account_function(resource):
    """A function rule for one member account of the group."""
    return Compliance.COMPLIANT
