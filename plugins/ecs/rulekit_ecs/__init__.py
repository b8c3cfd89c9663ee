"""ECS rules for rulekit, modelled on Cloud Config's managed rules.

| rule | kind | parameters |
| --- | --- | --- |
| ecs-instance-image-check | Python | imageIds (approved image ids, comma-separated) |
| ecs-instance-image-owner-system | Python, calls ECS DescribeImages | |
| ecs-instances-in-vpc | Python | vpcIds (optional) |
| ecs-instance-no-public-ip | condition | |
| ecs-instance-deletion-protection-enabled | condition | |
| ecs-desired-instance-type | condition | instanceTypes |
| ecs-cpu-min-count-limit | condition | cpuCount |

Deploy: ``RULEKIT_RULES=rulekit_ecs`` (and ``RULEKIT_RULE=<name>``) on an FC function whose
handler is ``rulekit.handler.handler``.
"""

from __future__ import annotations

from typing import Any

from rulekit import Compliance, Context, Params, Resource, rule
from rulekit.conditions import all_of, condition_rule, param, path

__all__ = [
    "ImageParams",
    "VpcParams",
    "ecs_cpu_min_count_limit",
    "ecs_desired_instance_type",
    "ecs_instance_deletion_protection_enabled",
    "ecs_instance_image_check",
    "ecs_instance_image_owner_system",
    "ecs_instance_no_public_ip",
    "ecs_instances_in_vpc",
]

INSTANCE = "ACS::ECS::Instance"


class ImageParams(Params):
    """``imageIds``: the approved image ids, comma-separated (``m-1,m-2``)."""

    image_ids: list[str]


@rule(
    resource_type=INSTANCE,
    params=ImageParams,
    risk_level=1,
    description="ECS instances run from an approved image.",
)
def ecs_instance_image_check(resource: Resource, params: ImageParams) -> Any:
    """An ECS instance must run from one of the approved images."""
    image = resource.get("$.ImageId")
    if image is None:
        return Compliance.INSUFFICIENT_DATA, "the configuration has no ImageId"
    if image in params.image_ids:
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, {
        "configuration": image,
        "desiredValue": params.image_ids,
        "operator": "In",
        "property": "$.ImageId",
    }


@rule(
    resource_type=INSTANCE,
    risk_level=2,
    description="ECS instances run from a system (Alibaba Cloud) image.",
)
def ecs_instance_image_owner_system(resource: Resource, ctx: Context) -> Any:
    """The instance's image must be owned by the system, as in Alibaba's sample image rule.

    Needs ``ecs:DescribeImages`` on the function's role.
    """
    image = resource.get("$.ImageId")
    if not image:
        return Compliance.INSUFFICIENT_DATA, "the configuration has no ImageId"
    body = ctx.call(
        "Ecs", "DescribeImages", RegionId=resource.region, ImageId=image, ShowExpired=True
    )
    images = (body.get("Images") or {}).get("Image") or []
    if not images:
        return Compliance.INSUFFICIENT_DATA, f"image {image} was not found"
    owner = images[0].get("ImageOwnerAlias")
    if owner == "system":
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, {
        "configuration": owner,
        "desiredValue": "system",
        "operator": "StringEquals",
        "property": "DescribeImages.ImageOwnerAlias",
    }


class VpcParams(Params):
    """``vpcIds`` (optional): the VPCs instances may run in, comma-separated."""

    vpc_ids: list[str] = []


@rule(
    resource_type=INSTANCE,
    params=VpcParams,
    risk_level=2,
    description="ECS instances run in a VPC (optionally one of vpcIds).",
)
def ecs_instances_in_vpc(resource: Resource, params: VpcParams) -> Any:
    """Managed rule ecs-instances-in-vpc: VPC network, and one of ``vpcIds`` when given."""
    network = resource.get("$.InstanceNetworkType")
    if network != "vpc":
        return Compliance.NON_COMPLIANT, {
            "configuration": network,
            "desiredValue": "vpc",
            "operator": "StringEquals",
            "property": "$.InstanceNetworkType",
        }
    vpc = resource.get("$.VpcAttributes.VpcId")
    if params.vpc_ids and vpc not in params.vpc_ids:
        return Compliance.NON_COMPLIANT, {
            "configuration": vpc,
            "desiredValue": params.vpc_ids,
            "operator": "StringIn",
            "property": "$.VpcAttributes.VpcId",
        }
    return Compliance.COMPLIANT


ecs_instance_no_public_ip = condition_rule(
    "ecs-instance-no-public-ip",
    INSTANCE,
    all_of(
        path("$.PublicIpAddress.IpAddress").is_empty(),
        path("$.EipAddress.IpAddress").is_string_empty(),
    ),
    risk_level=1,
    description="ECS instances have no public IPv4 address and no EIP.",
)

ecs_instance_deletion_protection_enabled = condition_rule(
    "ecs-instance-deletion-protection-enabled",
    INSTANCE,
    # Exactly the platform's condition JSON: what the console's condition editor produces.
    {
        "operator": "and",
        "children": [
            {
                "featurePath": "$.DeletionProtection",
                "operator": "StringEquals",
                "desired": "true",
                "children": [],
            }
        ],
    },
    risk_level=3,
    description="ECS instances have deletion protection enabled.",
)

ecs_desired_instance_type = condition_rule(
    "ecs-desired-instance-type",
    INSTANCE,
    path("$.InstanceType").string_in(param("instanceTypes")),
    description="ECS instances use one of the instance types in instanceTypes.",
)

ecs_cpu_min_count_limit = condition_rule(
    "ecs-cpu-min-count-limit",
    INSTANCE,
    path("$.Cpu").greater_or_equals(param("cpuCount")),
    description="ECS instances have at least cpuCount vCPUs.",
)
