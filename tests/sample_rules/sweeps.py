"""Scheduled rules for sweep tests."""

from rulekit import Compliance, rule


@rule(resource_type="ACS::ECS::Instance", name="image-is-approved", frequency="One_Hour")
def image_is_approved(resource):
    if resource.id == "i-boom":
        raise RuntimeError("this rule has a bug for this resource")
    if resource.get("$.ImageId") == "m-ok":
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, f"image {resource.get('$.ImageId')}"
