"""Rules declaring every scope field, for the deployment exports (tests/test_templates.py)."""

from rulekit import Compliance, rule
from rulekit.conditions import condition_rule, path

#: Every field a single-account rule can carry.
ACCOUNT_WIDE = {
    "RegionIdsScope": "cn-hangzhou,cn-beijing",
    "ExcludeRegionIdsScope": "cn-qingdao",
    "ResourceGroupIdsScope": "rg-1",
    "ExcludeResourceGroupIdsScope": "rg-2",
    "ResourceIdsScope": "bucket-a,bucket-b",
    "ExcludeResourceIdsScope": "bucket-c",
    "ResourceNameScope": "bucket-a",
    "TagKeyScope": "env,team",
    "TagValueScope": "prod",
    "TagKeyLogicScope": "AND",
    "TagsScope": [{"TagKey": "owner", "TagValue": "ops"}],
    "ExcludeTagsScope": [{"TagKey": "skip", "TagValue": "yes"}],
}
#: The account-group fields only an aggregate rule can carry.
GROUP_WIDE = {
    "AccountIdsScope": "111,222",
    "ExcludeAccountIdsScope": "333",
    "FolderIdsScope": "fd-1",
    "ExcludeFolderIdsScope": "fd-2",
}

scoped_condition = condition_rule(
    "scoped-condition",
    "ACS::OSS::Bucket",
    path("$.AccessControlList.Grant").not_string_equals("public-read-write"),
    scope=ACCOUNT_WIDE,
    description="A platform condition rule with every single-account scope field.",
)


@rule(resource_type="ACS::OSS::Bucket", scope=ACCOUNT_WIDE, risk_level=1)
def scoped_function(resource):
    """A function rule with every single-account scope field."""
    return Compliance.COMPLIANT
