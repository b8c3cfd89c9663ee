"""Scheduled rules with declared reads, for the advanced-search sweep tests."""

from rulekit import Compliance, rule
from rulekit.conditions import all_of, any_of, condition_rule, path

TYPE = "ACS::ECS::Instance"

instance_shape = condition_rule(
    "instance-shape",
    TYPE,
    all_of(
        path("$.ImageId").string_equals("m-ok"),
        path("$.Cpu").greater_or_equals(2),
        path("$.VpcAttributes.VpcId").is_string_not_empty(),
        any_of(
            path("$.DeletionProtection").equals(True),
            path("$.InstanceName").string_contains("prod"),
        ),
    ),
    frequency="One_Hour",
)


@rule(resource_type=TYPE, frequency="One_Hour", reads=["$.ImageId", "$.Cpu"])
def image_and_cpu(resource):
    image, cpu = resource.get("$.ImageId", "<none>"), resource.get("$.Cpu", "<none>")
    if image == "m-ok" and cpu != "<none>":
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, f"image {image!r}, cpu {cpu!r}"


@rule(resource_type=TYPE, frequency="One_Hour", reads=["$.ImageId"])
def reads_more_than_declared(resource):
    if resource.get("$.ImageId") == "m-ok" and resource.get("$.InstanceType") == "ecs.g7":
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, f"type {resource.get('$.InstanceType')!r}"


@rule(resource_type=TYPE, frequency="One_Hour", reads=["$.ImageId"])
def swallows_undeclared_reads(resource):
    try:
        kind = resource["$.InstanceType"]
    except Exception:  # a rule that hides every error must still not see a partial configuration
        kind = "unknown"
    return (Compliance.COMPLIANT if kind == "ecs.g7" else Compliance.NON_COMPLIANT), f"type {kind}"


many_shapes = condition_rule(
    "many-shapes",
    TYPE,
    all_of(
        any_of(
            path("$.ImageId").string_in(["m-ok", "m-é"]),
            path("$.Cpu").greater(2),
        ),
        any_of(
            path("$.Memory").less_or_equals(4096),
            path("$.DeletionProtection").equals(True),
            path("$.SecurityGroupIds.SecurityGroupId").contains("sg-1"),
        ),
        any_of(
            path("$.VpcAttributes.VpcId").is_string_not_empty(),
            path("$.EipAddress.IpAddress").is_string_empty(),
        ),
        path("$.InstanceName").not_string_contains("test"),
    ),
    frequency="One_Hour",
)

ECHOED = [
    "$.ImageId",
    "$.Cpu",
    "$.Memory",
    "$.DeletionProtection",
    "$.VpcAttributes.VpcId",
    "$.SecurityGroupIds.SecurityGroupId",
]


@rule(resource_type=TYPE, frequency="One_Hour", reads=ECHOED)
def echo_reads(resource):
    """Shows each read's presence, JSON type and value: any difference is in the annotation."""
    shown = []
    for read in ECHOED:
        value = resource.get(read, KeyError)
        shown.append("-" if value is KeyError else f"{type(value).__name__}:{value!r}")
    return Compliance.NON_COMPLIANT, "|".join(shown)
