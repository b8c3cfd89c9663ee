"""A hand-written Cloud Config rule handler in the style of Alibaba's samples (json and
aliyun-python-sdk-core, one file), doing the same check as rulekit's ecs-instance-image-check,
but correctly (API 2020-09-07, Evaluations as JSON). The baseline rulekit is measured against."""

import json
import os

from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest


def evaluate(event):
    """Everything but the network: decode, check, assemble (the warm-dispatch baseline)."""
    body = json.loads(event)
    item = body["invokingEvent"]["configurationItem"]
    configuration = json.loads(item["configuration"])
    approved = [i.strip() for i in body["ruleParameters"]["imageIds"].split(",") if i.strip()]
    image = configuration.get("ImageId")
    evaluation = {
        "accountId": item["accountId"],
        "complianceResourceId": item["resourceId"],
        "complianceResourceType": item["resourceType"],
        "complianceRegionId": item["regionId"],
        "complianceType": "COMPLIANT" if image in approved else "NON_COMPLIANT",
        "orderingTimestamp": body["orderingTimestamp"],
    }
    if evaluation["complianceType"] == "NON_COMPLIANT":
        evaluation["annotation"] = json.dumps(
            {
                "configuration": image,
                "desiredValue": approved,
                "operator": "In",
                "property": "$.ImageId",
            }
        )
    return body["resultToken"], json.dumps([evaluation])


def _client(creds, region):
    return AcsClient(
        region_id=region,
        credential=StsTokenCredential(
            creds.access_key_id, creds.access_key_secret, creds.security_token
        ),
        auto_retry=False,
    )


def _put_evaluations(client, token, evaluations):
    request = CommonRequest()
    request.set_domain(os.environ["RULEKIT_CONFIG_ENDPOINT"])
    request.set_version("2020-09-07")
    request.set_action_name("PutEvaluations")
    request.set_method("POST")
    request.add_body_params("ResultToken", token)
    request.add_body_params("Evaluations", evaluations)
    client.do_action_with_exception(request)


def handler(event, context):
    token, evaluations = evaluate(event)
    _put_evaluations(_client(context.credentials, context.region), token, evaluations)
    return {"delivered": 1}


_clients = {}


def handler_reusing_client(event, context):
    """The same handler, written with more care than the samples: the SDK client is kept
    across warm invocations (per credentials, which FC rotates) instead of built per event."""
    token, evaluations = evaluate(event)
    creds = context.credentials
    key = (creds.access_key_id, creds.security_token, context.region)
    client = _clients.get(key)
    if client is None:
        _clients.clear()
        client = _clients[key] = _client(creds, context.region)
    _put_evaluations(client, token, evaluations)
    return {"delivered": 1}
