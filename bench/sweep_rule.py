"""The rule the sweep benchmark runs: a Python rule with one parameterless check."""

from rulekit import Compliance, rule


@rule(resource_type="ACS::ECS::Instance", name="bench-image-approved", frequency="One_Hour")
def bench_image_approved(resource):
    if resource.get("$.ImageId") == "m-approved":
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, "image is not approved"
