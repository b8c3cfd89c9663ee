"""Rules for dispatcher and delivery tests."""

from rulekit import Compliance, Evaluation, rule


@rule(resource_type="ACS::ECS::Instance", name="fan-out")
def fan_out(resource, ctx):
    """Reports one evaluation per disk listed in the configuration (other resources)."""
    for disk in resource.get("$.Disks", []):
        yield Evaluation(
            resource_id=disk, resource_type="ACS::ECS::Disk", compliance=Compliance.COMPLIANT
        )


@rule(
    resource_types=["ACS::ECS::Instance", "ACS::ECS::Disk"],
    name="always-compliant",
    triggers=["ConfigurationItemChangeNotification", "ScheduledNotification"],
    frequency="One_Hour",
)
def always_compliant(resource):
    return Compliance.COMPLIANT
