"""A hand-written periodic sweep in the style of Alibaba's samples (aliyun-python-sdk-core, one
file): list the account's ECS instances a page at a time (ListDiscoveredResources, NextToken),
fetch each configuration (GetDiscoveredResource), check its ImageId as bench/sweep_rule.py does,
and send each page's 100 evaluations with PutEvaluations. ``concurrency`` 1 is the samples'
sequential loop; more fetches a page's configurations on that many threads at once, the same
concurrency rulekit's sweep uses. The baseline of bench/sweep.py."""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

VERSION = "2020-09-07"


def _client():
    return AcsClient(
        region_id="cn-hangzhou",
        credential=StsTokenCredential(
            os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
            os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            os.environ["ALIBABA_CLOUD_SECURITY_TOKEN"],
        ),
        auto_retry=False,
    )


def _call(client, action, params):
    request = CommonRequest()
    request.set_domain(os.environ["RULEKIT_CONFIG_ENDPOINT"])
    request.set_version(VERSION)
    request.set_action_name(action)
    request.set_method("POST")
    for key, value in params.items():
        if value is not None:
            request.add_body_params(key, value)
    return json.loads(client.do_action_with_exception(request))


def _judge(client, profile, ordering):
    detail = _call(
        client,
        "GetDiscoveredResource",
        {
            "ResourceId": profile["ResourceId"],
            "ResourceType": profile["ResourceType"],
            "Region": profile["Region"],
        },
    )["DiscoveredResourceDetail"]
    configuration = json.loads(detail.get("Configuration") or "{}")
    evaluation = {
        "accountId": int(profile.get("AccountId") or detail["AccountId"]),
        "complianceResourceId": profile["ResourceId"],
        "complianceResourceType": profile["ResourceType"],
        "complianceRegionId": profile["Region"],
        "complianceType": "COMPLIANT",
        "orderingTimestamp": ordering,
    }
    if configuration.get("ImageId") != "m-approved":
        evaluation["complianceType"] = "NON_COMPLIANT"
        evaluation["annotation"] = "image is not approved"
    return evaluation


def sweep(result_token, concurrency=1):
    """Evaluate every ECS instance of the account; returns (resources, PutEvaluations calls)."""
    ordering = int(time.time() * 1000)
    clients = [_client() for _ in range(concurrency)]  # an SDK client is not shared by threads
    pool = ThreadPoolExecutor(concurrency) if concurrency > 1 else None
    resources = calls = 0
    token = None
    while True:
        page = _call(
            clients[0],
            "ListDiscoveredResources",
            {"ResourceTypes": "ACS::ECS::Instance", "MaxResults": 100, "NextToken": token},
        )["DiscoveredResourceProfiles"]
        profiles = page.get("DiscoveredResourceProfileList") or []
        if pool is None:
            evaluations = [_judge(clients[0], p, ordering) for p in profiles]
        else:
            jobs = [
                pool.submit(_judge, clients[n % concurrency], p, ordering)
                for n, p in enumerate(profiles)
            ]
            evaluations = [job.result() for job in jobs]
        if evaluations:
            _call(
                clients[0],
                "PutEvaluations",
                {"ResultToken": result_token, "Evaluations": json.dumps(evaluations)},
            )
            calls += 1
        resources += len(evaluations)
        token = page.get("NextToken")
        if not token:
            break
    if pool is not None:
        pool.shutdown()
    return resources, calls
