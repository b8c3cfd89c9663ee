"""The example rule ``rulekit demo`` runs: shipped inside rulekit (not in a pack), so the demo
works from a plain ``pip install aliyun-config-rulekit``. It is the README's rule: ECS instances
must run from an approved image (rule parameter ``imageIds``).

Example::

    $ rulekit demo                       # this rule on the embedded sample event
    $ RULEKIT_RULES=rulekit.testing.example rulekit invoke event.json
"""

from __future__ import annotations

from typing import Any

from .._evaluation import Compliance
from .._params import Params
from .._resource import Resource
from .._rule import rule

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
