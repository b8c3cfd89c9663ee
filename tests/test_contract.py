"""Contract tests: rulekit's requests and the emulator's responses held against the official
generated SDK models (test-only dependencies), so that a misreading of the platform shared by
rulekit and its emulator fails here. Oracle: tests/sdk_oracle.py; references: docs/testing.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sdk_oracle

from rulekit import ApiError
from rulekit._api import ApiClient, RetryPolicy
from rulekit._scope_fields import API_FIELDS, RULE_FIELDS
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, ConfigEmulator, change_event, scheduled_event
from rulekit.testing._store import DEFAULT_ACCOUNT_ID

TYPE = "ACS::ECS::Instance"
DATA = Path(__file__).parent / "data"
MEMBER = "2000000000005678"

#: Every action rulekit calls on a product with an official model, and which the emulator serves.
ACTIONS = {
    ("config", "PutEvaluations"),
    ("config", "GetDiscoveredResource"),
    ("config", "ListDiscoveredResources"),
    ("config", "GetAggregateDiscoveredResource"),
    ("config", "ListAggregateDiscoveredResources"),
    ("config", "ListResourcesByAdvancedSearch"),
    ("config", "ListAggregateResourcesByAdvancedSearch"),
    ("resourcemanager", "GetAccount"),
    ("resourcemanager", "ListAncestors"),
    ("sts", "AssumeRole"),
}


class Exchanges:
    """Every request rulekit sent and every body the emulator answered, per action."""

    def __init__(self, emulator: ConfigEmulator) -> None:
        self.emulator = emulator
        self.responses: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for product, action in ACTIONS:
            original = emulator._handlers[(product, action)]
            emulator.handle(product, action, self._recording(product, action, original))

    def _recording(
        self, product: str, action: str, original: Callable[[dict[str, str]], dict[str, Any]]
    ) -> Callable[[dict[str, str]], dict[str, Any]]:
        def answer(params: dict[str, str]) -> dict[str, Any]:
            body = original(params)
            # As the client will parse it: through JSON, with the RequestId the emulator adds.
            self.responses.setdefault((product, action), []).append(
                json.loads(json.dumps({"RequestId": "4C1A6B0E-0000", **body}))
            )
            return body

        return answer

    def problems(self) -> list[str]:
        out = []
        for call in self.emulator.calls:
            if call.ok and (call.product, call.action) in ACTIONS:
                out += sdk_oracle.request_problems(call.product, call.action, call.params)
        for (product, action), bodies in self.responses.items():
            for body in bodies:
                out += sdk_oracle.response_problems(product, action, body)
        return out

    def exercised(self) -> set[tuple[str, str]]:
        return {(c.product, c.action) for c in self.emulator.calls if c.ok}


@pytest.fixture
def exchanges(emulator: ConfigEmulator) -> Exchanges:
    return Exchanges(emulator)


def _environ(emulator: ConfigEmulator, **extra: str) -> dict[str, str]:
    return emulator.environ(RULEKIT_RETRY_BASE_DELAY="0.01", **extra)


def _drive_every_action(emulator: ConfigEmulator, fc_context: Any) -> None:
    """The real handler through each code path that talks to the platform."""
    emulator.aggregator_id = "ca-1234"
    emulator.add_account(MEMBER, "fd-prod", ["r-root"])
    emulator.add_account(DEFAULT_ACCOUNT_ID, "fd-dev", ["r-root"])
    emulator.store.add(TYPE, "i-1", configuration={"ImageId": "m-ok"}, resource_group_id="rg-1")
    emulator.store.add(TYPE, "i-gone", configuration={"ImageId": "m-ok"}, deleted=True)
    emulator.store.add(
        TYPE,
        "i-member",
        account_id=MEMBER,
        configuration={"ImageId": "m-ok", "ResourceGroupId": "rg-1"},
    )
    sweeps = {"RULEKIT_RULES": "sample_rules.sweeps"}
    # A single-account sweep (retained and deleted listings, fetches, PutEvaluations)...
    run(scheduled_event(), fc_context, environ=_environ(emulator, **sweeps))
    # ...one with DeleteMode...
    run(
        scheduled_event(),
        fc_context,
        environ=_environ(emulator, RULEKIT_DELETE_MODE="true", **sweeps),
    )
    # ...an aggregator sweep with a folder scope (resource directory lookups)...
    run(
        scheduled_event(rule_parameters={"FolderIdsScope": "fd-prod"}),
        fc_context,
        environ=_environ(emulator, RULEKIT_AGGREGATOR_ID="ca-1234", **sweeps),
    )
    # ...sweeps of a rule with declared reads, by advanced search, single and aggregate...
    searched = {"RULEKIT_RULES": "sample_rules.searched", "RULEKIT_RULE": "echo-reads"}
    run(scheduled_event(), fc_context, environ=_environ(emulator, **searched))
    run(
        scheduled_event(),
        fc_context,
        environ=_environ(emulator, RULEKIT_AGGREGATOR_ID="ca-1234", **searched),
    )
    # ...an OVERSIZE change event, and a rule calling a member account (STS AssumeRole).
    oversize = change_event(TYPE, "i-1", None)
    oversize["invokingEvent"]["configurationType"] = "OVERSIZE"
    run(oversize, fc_context, environ=_environ(emulator, **sweeps))
    emulator.stub("Ecs", "DescribeInstances", {"Instances": {"Instance": []}})
    run(
        change_event(TYPE, "i-1", {"ImageId": "m-ok"}, rule_parameters={}),
        fc_context,
        environ=_environ(
            emulator, RULEKIT_RULES="sample_rules.cloud", RULEKIT_RULE="member-account-call"
        ),
    )


def test_every_request_and_response_matches_the_official_models(emulator, fc_context, exchanges):
    _drive_every_action(emulator, fc_context)
    assert exchanges.exercised() >= ACTIONS, sorted(ACTIONS - exchanges.exercised())
    assert exchanges.problems() == []


class TestTheOracleCatches:
    """The checks above can fail: each kind of mismatch they exist for is detected."""

    def test_a_parameter_the_model_lacks(self):
        problems = sdk_oracle.request_problems(
            "config", "ListDiscoveredResources", {"MaxResults": "100", "ResourceGroupId": "rg-1"}
        )
        assert problems == [
            "ListDiscoveredResources: parameter 'ResourceGroupId' is not in "
            "ListDiscoveredResourcesRequest"
        ]

    def test_a_value_of_the_wrong_type_and_a_missing_required_parameter(self):
        problems = sdk_oracle.request_problems(
            "config", "ListDiscoveredResources", {"ResourceDeleted": "True"}
        )
        assert len(problems) == 2
        assert "ResourceDeleted='True'" in problems[0] and "MaxResults" in problems[1]

    def test_a_response_field_the_model_lacks(self):
        body = {"DiscoveredResourceDetail": {"ResourceId": "i-1", "ResourceGroupId": "rg-1"}}
        problems = sdk_oracle.response_problems("config", "GetDiscoveredResource", body)
        assert any("ResourceGroupId is not in the official model" in p for p in problems)

    def test_a_response_value_of_the_wrong_type(self):
        body = {"DiscoveredResourceDetail": {"AccountId": "123", "VpcId": "", "VSwitchId": ""}}
        problems = sdk_oracle.response_problems("config", "GetDiscoveredResource", body)
        assert problems == [
            "GetDiscoveredResource: $.DiscoveredResourceDetail.AccountId='123' is str, "
            "not <class 'int'>"
        ]

    def test_the_old_emulator_detail_would_have_failed(self):
        # The shape the emulator served before the contract tests: ResourceGroupId in the detail.
        body = {
            "DiscoveredResourceDetail": {
                "AccountId": 1,
                "Configuration": "{}",
                "ResourceGroupId": "",
                "VpcId": "",
                "VSwitchId": "",
            }
        }
        assert sdk_oracle.response_problems("config", "GetAggregateDiscoveredResource", body)


def _call(emulator: ConfigEmulator, action: str, **params: Any) -> dict[str, Any]:
    client = ApiClient(TEST_CREDENTIALS, retry=RetryPolicy(max_attempts=1))
    return client.call(
        action, params, product="Config", version="2020-09-07", endpoint=emulator.url
    )


def _listed(body: dict[str, Any]) -> list[str]:
    profiles = body["DiscoveredResourceProfiles"]["DiscoveredResourceProfileList"]
    return [p["ResourceId"] for p in profiles]


class TestDocumentedDefaults:
    """Defaults and limits from the API reference (the models' own parameter docs)."""

    @pytest.fixture
    def stocked(self, emulator: ConfigEmulator) -> ConfigEmulator:
        emulator.store.add(TYPE, "i-live", resource_group_id="rg-1")
        emulator.store.add(TYPE, "i-gone", deleted=True)
        return emulator

    def test_resource_deleted_defaults_to_retained_resources_only(self, stocked):
        assert _listed(_call(stocked, "ListDiscoveredResources", MaxResults=10)) == ["i-live"]

    def test_resource_deleted_0_lists_deleted_resources(self, stocked):
        body = _call(stocked, "ListDiscoveredResources", MaxResults=10, ResourceDeleted=0)
        assert _listed(body) == ["i-gone"]
        [profile] = body["DiscoveredResourceProfiles"]["DiscoveredResourceProfileList"]
        assert profile["ResourceDeleted"] == 0

    @pytest.mark.parametrize("params", [{}, {"MaxResults": 0}, {"MaxResults": 101}])
    def test_max_results_is_required_and_1_to_100(self, stocked, params):
        with pytest.raises(ApiError) as caught:
            _call(stocked, "ListDiscoveredResources", **params)
        assert caught.value.code in ("MissingParameter.MaxResults", "InvalidParameter.MaxResults")

    def test_an_update_window_over_30_days_is_rejected(self, stocked):
        day = 24 * 3600 * 1000
        with pytest.raises(ApiError, match="30 days"):
            _call(
                stocked,
                "ListDiscoveredResources",
                MaxResults=10,
                StartUpdateTimestamp=0,
                EndUpdateTimestamp=31 * day,
            )

    def test_only_the_single_account_listing_carries_the_resource_group(self, stocked):
        stocked.aggregator_id = "ca-1"
        single = _call(stocked, "ListDiscoveredResources", MaxResults=10)
        [profile] = single["DiscoveredResourceProfiles"]["DiscoveredResourceProfileList"]
        assert profile["ResourceGroupId"] == "rg-1"
        aggregate = _call(
            stocked, "ListAggregateDiscoveredResources", MaxResults=10, AggregatorId="ca-1"
        )
        [profile] = aggregate["DiscoveredResourceProfiles"]["DiscoveredResourceProfileList"]
        assert "ResourceGroupId" not in profile
        for action, extra in (
            ("GetDiscoveredResource", {}),
            ("GetAggregateDiscoveredResource", {"AggregatorId": "ca-1"}),
        ):
            detail = _call(
                stocked,
                action,
                ResourceId="i-live",
                ResourceType=TYPE,
                Region="cn-hangzhou",
                **extra,
            )["DiscoveredResourceDetail"]
            assert "ResourceGroupId" not in detail


def test_rule_fields_are_the_official_config_rule_fields_that_are_not_scope():
    """Scope.from_api ignores exactly the non-scope fields of a pasted ConfigRule."""
    official: set[str] = set()
    for name in (
        "GetConfigRuleResponseBodyConfigRule",
        "GetAggregateConfigRuleResponseBodyConfigRule",
    ):
        official |= set(sdk_oracle.fields(sdk_oracle.model("config", name)))
    assert official - set(API_FIELDS) - {"Scope"} == RULE_FIELDS
    assert official & set(API_FIELDS) == set(API_FIELDS)  # every scope field rulekit reads exists


def test_the_copied_request_parameters_are_the_official_models():
    """tests/data/config-api-requests.json (what the exported API requests are validated
    against) stays in step with the installed official models."""
    copied = json.loads((DATA / "config-api-requests.json").read_text())["actions"]
    for action, spec in copied.items():
        request = sdk_oracle.model("config", f"{action}Request")
        assert sorted(spec["parameters"]) == sorted(sdk_oracle.fields(request)), action
        for item, keys in spec.items():
            if item != "parameters":
                model = sdk_oracle.model("config", f"{action}Request{item}")
                assert sorted(keys) == sorted(sdk_oracle.fields(model)), f"{action}.{item}"
