"""ctx.call / ctx.paginate: real SDK to the emulator's stubs, retries, endpoints, AssumeRole."""

from __future__ import annotations

from typing import Any

import pytest

from rulekit import ApiError, ConfigurationError, EvaluationError
from rulekit._api import ApiClient
from rulekit._calls import CloudApi
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, Throttle, change_event

CLOUD = "sample_rules.cloud"


def _run(
    emulator,
    fc_context,
    rule: str,
    resource_type: str = "ACS::VPC::VPC",
    resource_id: str = "vpc-1",
    **env: str,
) -> dict[str, Any]:
    run(
        change_event(resource_type, resource_id, {}),
        fc_context,
        environ=emulator.environ(
            RULEKIT_RULES=CLOUD, RULEKIT_RULE=rule, RULEKIT_RETRY_BASE_DELAY="0.01", **env
        ),
    )
    return emulator.evaluations[-1]


def _flow_logs(emulator, statuses: list[str], page_size: int = 50) -> None:
    logs = [{"FlowLogId": f"fl-{n}", "Status": s} for n, s in enumerate(statuses)]

    def describe(params: dict[str, str]) -> dict[str, Any]:
        page, size = int(params["PageNumber"]), int(params["PageSize"])
        chunk = logs[(page - 1) * size : page * size]
        return {
            "FlowLogs": {"FlowLog": chunk},
            "TotalCount": len(logs),
            "PageNumber": page,
            "PageSize": size,
        }

    emulator.handle("Vpc", "DescribeFlowLogs", describe)


def test_a_rule_calls_a_vpc_api_with_the_function_credentials(emulator, fc_context):
    _flow_logs(emulator, ["Active"])
    assert _run(emulator, fc_context, "vpc-flow-logs-enabled")["complianceType"] == "COMPLIANT"
    [call] = emulator.calls_of("DescribeFlowLogs")
    assert call.product == "vpc" and call.access_key_id == TEST_CREDENTIALS.access_key_id
    assert call.params["ResourceId"] == "vpc-1"
    assert call.region_id == "cn-hangzhou"  # the resource's region by default


def test_page_number_paging_reads_every_page(emulator, fc_context):
    _flow_logs(emulator, ["Inactive"] * 120 + ["Active"])
    assert _run(emulator, fc_context, "vpc-flow-logs-enabled")["complianceType"] == "COMPLIANT"
    pages = [c.params["PageNumber"] for c in emulator.calls_of("DescribeFlowLogs")]
    assert pages == ["1", "2", "3"]


def test_next_token_paging_follows_the_token(emulator, fc_context):
    def tags(params: dict[str, str]) -> dict[str, Any]:
        start = int(params.get("NextToken") or 0)
        following = start + 2 if start + 2 < 5 else None
        return {
            "TagResources": {"TagResource": [{"n": n} for n in range(start, min(start + 2, 5))]},
            "NextToken": str(following) if following else "",
        }

    emulator.handle("Ecs", "ListTagResources", tags)
    result = _run(emulator, fc_context, "token-paging", "ACS::ECS::Instance", "i-1")
    assert result["annotation"] == "5 items"
    assert [c.params.get("NextToken") for c in emulator.calls_of("ListTagResources")] == [
        None,
        "2",
        "4",
    ]


def test_calls_are_retried_like_delivery(emulator, fc_context):
    _flow_logs(emulator, ["Active"])
    emulator.script("DescribeFlowLogs", Throttle(), Throttle())
    assert _run(emulator, fc_context, "vpc-flow-logs-enabled")["complianceType"] == "COMPLIANT"
    assert len(emulator.calls_of("DescribeFlowLogs")) == 3


def test_an_unstubbed_call_fails_naming_the_call(emulator, fc_context):
    with pytest.raises(EvaluationError, match="DescribeFlowLogs") as caught:
        _run(emulator, fc_context, "vpc-flow-logs-enabled")
    assert "InvalidAction.NotFound" in str(caught.value)
    assert emulator.put_calls == []


def test_a_product_endpoint_override_routes_only_that_product(emulator, fc_context):
    _flow_logs(emulator, ["Active"])
    env = emulator.environ(
        RULEKIT_RULES=CLOUD,
        RULEKIT_RULE="vpc-flow-logs-enabled",
        RULEKIT_VPC_ENDPOINT=f"{emulator.url}/vpc",
    )
    env["RULEKIT_CONFIG_ENDPOINT"] = env.pop("RULEKIT_ENDPOINT")
    run(change_event("ACS::VPC::VPC", "vpc-1", {}), fc_context, environ=env)
    assert emulator.calls_of("DescribeFlowLogs")[0].product == "vpc"


def test_member_account_calls_assume_a_role_once_and_sign_with_it(emulator, fc_context):
    emulator.stub("Ecs", "DescribeInstances", {"Instances": {"Instance": []}})
    _run(
        emulator,
        fc_context,
        "member-account-call",
        "ACS::ECS::Instance",
        "i-1",
        RULEKIT_ASSUME_ROLE_NAME="AuditRole",
    )
    [assume] = emulator.calls_of("AssumeRole")
    assert assume.params["RoleArn"] == "acs:ram::1000000000001234:role/AuditRole"
    assert assume.access_key_id == TEST_CREDENTIALS.access_key_id
    calls = emulator.calls_of("DescribeInstances")
    assert [c.account_id for c in calls] == ["1000000000001234"] * 2
    assert all(c.access_key_id != TEST_CREDENTIALS.access_key_id for c in calls)


def test_a_warm_instance_assumes_a_member_role_once_across_invocations(emulator, fc_context):
    # STS throttles AssumeRole: a burst of change events must not assume the role per event.
    emulator.stub("Ecs", "DescribeInstances", {"Instances": {"Instance": []}})
    for _ in range(3):
        _run(emulator, fc_context, "member-account-call", "ACS::ECS::Instance", "i-1")
    assert len(emulator.calls_of("AssumeRole")) == 1
    calls = emulator.calls_of("DescribeInstances")
    assert len(calls) == 6
    assert all(c.access_key_id != TEST_CREDENTIALS.access_key_id for c in calls)


def test_a_cached_member_client_runs_under_the_current_invocations_deadline(emulator):
    from rulekit._deadline import Deadline

    emulator.stub("Ecs", "DescribeRegions", {"Regions": {}})
    shared: dict = {}
    base = ApiClient(TEST_CREDENTIALS, deadline=Deadline(None))
    first = CloudApi(base.under(Deadline(None)), environ=emulator.environ(), assumed=shared)
    first.call("Ecs", "DescribeRegions", account_id="222")
    # The next invocation, possibly while the first still runs (FC instance concurrency), with
    # one second left: it reuses the member's credentials but retries within its own time only.
    later = CloudApi(base.under(Deadline(1.0)), environ=emulator.environ(), assumed=shared)
    emulator.script("DescribeRegions", Throttle())
    with pytest.raises(ApiError, match="not retried: the invocation's remaining time"):
        later.call("Ecs", "DescribeRegions", account_id="222")
    assert len(emulator.calls_of("AssumeRole")) == 1
    # ... and the first invocation's deadline did not move: it still retries a throttled call
    emulator.script("DescribeRegions", Throttle())
    assert first.call("Ecs", "DescribeRegions", account_id="222")["Regions"] == {}
    member_calls = emulator.calls_of("DescribeRegions")
    assert len(member_calls) == 4 and len({call.access_key_id for call in member_calls}) == 1
    # another role name (or STS endpoint) is another credential
    CloudApi(
        base, environ=emulator.environ(RULEKIT_ASSUME_ROLE_NAME="OtherRole"), assumed=shared
    ).call("Ecs", "DescribeRegions", account_id="222")
    assert len(emulator.calls_of("AssumeRole")) == 2


def test_assumed_credentials_are_renewed_near_expiry(emulator):
    emulator.stub("Ecs", "DescribeRegions", {"Regions": {}})
    now = [1_000.0]
    api = CloudApi(ApiClient(TEST_CREDENTIALS), environ=emulator.environ(), clock=lambda: now[0])
    api.call("Ecs", "DescribeRegions", account_id="222")
    api.call("Ecs", "DescribeRegions", account_id="222")
    assert len(emulator.calls_of("AssumeRole")) == 1
    now[0] = 4_102_444_800 - 60  # a minute before the emulator's credentials expire
    api.call("Ecs", "DescribeRegions", account_id="222")
    assert len(emulator.calls_of("AssumeRole")) == 2


def test_unknown_products_need_a_version(emulator):
    api = CloudApi(ApiClient(TEST_CREDENTIALS), environ=emulator.environ())
    with pytest.raises(ConfigurationError, match="unknown product 'Foo'"):
        api.call("Foo", "DescribeBars")
    emulator.stub("foo", "DescribeBars", {"Bars": []})
    env = {**emulator.environ(), "RULEKIT_FOO_ENDPOINT": f"{emulator.url}/foo"}
    api = CloudApi(ApiClient(TEST_CREDENTIALS), environ=env)
    assert api.call("Foo", "DescribeBars", version="2024-01-01")["Bars"] == []


def test_known_products_have_versions_and_regional_endpoints():
    from rulekit._endpoints import product, resolve_endpoint

    for name in ("Ecs", "Vpc", "Ram", "Rds", "Slb", "Config", "Sts"):
        assert product(name) is not None and product(name).version
    assert resolve_endpoint("Ecs", "cn-beijing", {}) == "ecs.cn-beijing.aliyuncs.com"
    assert resolve_endpoint("Vpc", "ap-southeast-1", {}) == "vpc.ap-southeast-1.aliyuncs.com"
    assert resolve_endpoint("Ram", "cn-beijing", {}) == "ram.aliyuncs.com"


class TestPaginate:
    """ctx.paginate across the three paging styles of Alibaba Cloud list APIs."""

    def _ram_users(self, emulator, count: int) -> None:
        """RAM ListUsers as the API reference (and its official model) describes: Marker /
        MaxItems in, IsTruncated / Marker / Users.User out."""

        def list_users(params: dict[str, str]) -> dict[str, Any]:
            start = int(params.get("Marker") or 0)
            size = int(params.get("MaxItems") or 100)
            users = [{"UserName": f"user-{n}"} for n in range(start, min(start + size, count))]
            following = start + size
            body: dict[str, Any] = {
                "IsTruncated": following < count,
                "Users": {"User": users},
            }
            if following < count:
                body["Marker"] = str(following)
            return body

        emulator.handle("ram", "ListUsers", list_users)

    def test_ram_pages_with_marker_and_is_truncated(self, emulator):
        import sdk_oracle

        self._ram_users(emulator, 7)
        api = CloudApi(ApiClient(TEST_CREDENTIALS), environ=emulator.environ())
        names = [u["UserName"] for u in api.paginate("Ram", "ListUsers", "Users.User", page_size=3)]
        assert names == [f"user-{n}" for n in range(7)]
        calls = emulator.calls_of("ListUsers")
        assert [c.params.get("Marker") for c in calls] == [None, "3", "6"]
        for call in calls:  # only parameters the official RAM model defines
            assert sdk_oracle.request_problems("ram", "ListUsers", call.params) == []

    def test_paging_stops_at_total_count(self, emulator):
        # A server that hands out a NextToken on its last page: TotalCount says it is the last.
        emulator.stub(
            "Ecs", "DescribeThings", {"Things": [1, 2], "NextToken": "t", "TotalCount": 2}
        )
        api = CloudApi(ApiClient(TEST_CREDENTIALS), environ=emulator.environ())
        assert list(api.paginate("Ecs", "DescribeThings", "Things", MaxResults=2)) == [1, 2]
        assert len(emulator.calls_of("DescribeThings")) == 1

    @pytest.mark.parametrize(
        "answer, params",
        [
            ({"Things": [1], "NextToken": "same"}, {"MaxResults": 1}),
            ({"Things": [1], "IsTruncated": True, "Marker": "same"}, {"MaxItems": 1}),
            ({"Things": [1, 2], "TotalCount": 100}, {}),  # ignores PageNumber
        ],
        ids=["token", "marker", "page"],
    )
    def test_a_position_that_repeats_raises_at_once(self, emulator, answer, params):
        from rulekit import ApiError

        emulator.stub("Ecs", "DescribeThings", answer)
        api = CloudApi(ApiClient(TEST_CREDENTIALS), environ=emulator.environ())
        with pytest.raises(ApiError, match="paging does not advance") as caught:
            list(api.paginate("Ecs", "DescribeThings", "Things", page_size=2, **params))
        assert caught.value.code == "PagingLoop"
        assert len(emulator.calls_of("DescribeThings")) <= 3  # not 10,000

    def test_an_unknown_paging_style_is_a_configuration_error(self, emulator):
        api = CloudApi(ApiClient(TEST_CREDENTIALS), environ=emulator.environ())
        with pytest.raises(ConfigurationError, match="paging must be token, marker or page"):
            list(api.paginate("Ecs", "DescribeThings", "Things", paging="cursor"))
