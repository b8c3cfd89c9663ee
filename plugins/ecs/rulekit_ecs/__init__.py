"""ECS rules for rulekit.

- ``ecs-instance-image-check``: an ECS instance must run from one of the approved images
  (rule parameter ``imageIds``, comma-separated), the check of Alibaba's sample "image" rule.

Deploy: ``RULEKIT_RULES=rulekit_ecs`` on an FC function whose handler is
``rulekit.handler.handler``.
"""

from __future__ import annotations

from rulekit import Compliance, Params, Resource, rule

__all__ = ["ImageParams", "ecs_instance_image_check"]


class ImageParams(Params):
    """``imageIds``: the approved image ids, comma-separated (``m-1,m-2``)."""

    image_ids: list[str]


@rule(
    resource_type="ACS::ECS::Instance",
    params=ImageParams,
    risk_level=1,
    description="ECS instances run from an approved image.",
)
def ecs_instance_image_check(resource: Resource, params: ImageParams) -> object:
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
