"""The authoring contract exactly as the issue states it (kept verbatim as a regression test)."""

from rulekit import Compliance, Params, rule


class ImageParams(Params):
    image_ids: list[str]  # rule parameter "imageIds": "m-1,m-2" -> ["m-1", "m-2"]


CALLS: list[str] = []


@rule(
    resource_type="ACS::ECS::Instance",
    params=ImageParams,
    scope={"TagKeyScope": "env", "TagValueScope": "prod"},
)
def ecs_instance_image_check(resource, params):
    CALLS.append(resource.id)
    image = resource["$.ImageId"]  # JSONPath into the configuration
    if image in params.image_ids:
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, f"image {image} is not approved"
