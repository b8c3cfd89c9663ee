"""Periodic sweeps: list, fetch, evaluate, stream out; deadline-aware; bad input contained."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rulekit import ApiError
from rulekit._api import ApiClient
from rulekit._config_api import ConfigApi
from rulekit._deadline import Deadline
from rulekit._delivery import ConfigSink
from rulekit._dispatcher import Dispatcher
from rulekit._event import decode_event
from rulekit._plugins import Plugins
from rulekit._settings import SweepOptions
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, ApiFailure, Drop, Pass, scheduled_event

SWEEPS = "sample_rules.sweeps"
TYPE = "ACS::ECS::Instance"


def _fill(
    emulator, count: int, *, image: str = "m-ok", region: str = "cn-hangzhou", **fields: Any
) -> None:
    for n in range(count):
        emulator.store.add(
            TYPE, f"i-{n:05d}", region=region, configuration={"ImageId": image}, **fields
        )


def _sweep(emulator, fc_context, **env: str) -> dict[str, Any]:
    return run(
        scheduled_event(),
        fc_context,
        environ=emulator.environ(RULEKIT_RULES=SWEEPS, RULEKIT_RETRY_BASE_DELAY="0.01", **env),
    )


def _by_id(emulator) -> dict[str, dict[str, Any]]:
    return {ev["complianceResourceId"]: ev for ev in emulator.evaluations}


def test_a_scheduled_event_without_item_evaluates_every_resource(emulator, fc_context):
    _fill(emulator, 250)
    summary = _sweep(emulator, fc_context)
    assert summary["resources"] == 250 and summary["delivered"] == 250
    assert summary["complete"] is True and summary["errors"] == 0
    sizes = [len(json.loads(c.params["Evaluations"])) for c in emulator.put_calls]
    assert sizes == [100, 100, 50]
    assert len(_by_id(emulator)) == 250


def test_listing_pages_with_max_results_and_next_token(emulator, fc_context):
    _fill(emulator, 230)
    _sweep(emulator, fc_context)
    lists = emulator.calls_of("ListDiscoveredResources")
    retained = [c for c in lists if c.params["ResourceDeleted"] == "1"]
    assert [c.params.get("NextToken") for c in retained] == [None, "100", "200"]
    assert {c.params["MaxResults"] for c in lists} == {"100"}
    assert lists[0].params["ResourceTypes"] == TYPE
    assert len(emulator.calls_of("GetDiscoveredResource")) == 230


def test_evaluations_stream_out_before_the_listing_ends(emulator, fc_context):
    _fill(emulator, 600)
    _sweep(emulator, fc_context, RULEKIT_SWEEP_CONCURRENCY="2")
    order = [c.action for c in emulator.calls]
    first_put = order.index("PutEvaluations")
    last_list = len(order) - 1 - order[::-1].index("ListDiscoveredResources")
    assert first_put < last_list


def test_scope_filtering_is_the_change_path_and_skips_the_fetch(emulator, fc_context):
    _fill(emulator, 3, tags={"env": ["prod"]})
    emulator.store.add(TYPE, "i-dev", configuration={"ImageId": "m-ok"}, tags={"env": ["dev"]})
    event = scheduled_event(rule_parameters={"TagKeyScope": "env", "TagValueScope": "prod"})
    run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=SWEEPS))
    results = _by_id(emulator)
    assert results["i-dev"]["complianceType"] == "NOT_APPLICABLE"
    assert "tag scope" in results["i-dev"]["annotation"]
    assert [results[f"i-{n:05d}"]["complianceType"] for n in range(3)] == ["COMPLIANT"] * 3
    fetched = {c.params["ResourceId"] for c in emulator.calls_of("GetDiscoveredResource")}
    assert "i-dev" not in fetched and len(fetched) == 3


def test_region_scope_narrows_the_listing(emulator, fc_context):
    _fill(emulator, 2, region="cn-beijing")
    event = scheduled_event(rule_parameters={"RegionIdsScope": "cn-beijing,cn-shanghai"})
    run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=SWEEPS))
    assert (
        emulator.calls_of("ListDiscoveredResources")[0].params["Regions"]
        == "cn-beijing,cn-shanghai"
    )


class TestBadInput:
    def test_a_deleted_resource_is_not_applicable_without_a_fetch(self, emulator, fc_context):
        emulator.store.add(TYPE, "i-gone", configuration={"ImageId": "m-ok"}, deleted=True)
        summary = _sweep(emulator, fc_context)
        assert _by_id(emulator)["i-gone"]["complianceType"] == "NOT_APPLICABLE"
        assert _by_id(emulator)["i-gone"]["annotation"] == "resource deleted"
        assert emulator.calls_of("GetDiscoveredResource") == []
        assert summary["errors"] == 0

    def test_a_configuration_that_is_not_json_is_insufficient_data(self, emulator, fc_context):
        _fill(emulator, 2)
        emulator.store.add(TYPE, "i-bad", configuration='{"ImageId": "m-ok"')
        summary = _sweep(emulator, fc_context)
        bad = _by_id(emulator)["i-bad"]
        assert bad["complianceType"] == "INSUFFICIENT_DATA"
        assert "not valid JSON" in bad["annotation"]
        assert summary["errors"] == 1 and summary["resources"] == 3
        assert "i-bad" in summary["failures"][0]

    def test_an_api_error_on_one_resource_does_not_stop_the_sweep(self, emulator, fc_context):
        _fill(emulator, 5)
        emulator.script("GetDiscoveredResource", ApiFailure(code="NoPermission"))
        summary = _sweep(emulator, fc_context)
        kinds = sorted(ev["complianceType"] for ev in emulator.evaluations)
        assert kinds == ["COMPLIANT"] * 4 + ["INSUFFICIENT_DATA"]
        assert summary["errors"] == 1

    def test_a_rule_raising_on_one_resource_is_counted_and_the_others_go_on(
        self, emulator, fc_context
    ):
        _fill(emulator, 4)
        emulator.store.add(TYPE, "i-boom", configuration={"ImageId": "m-ok"})
        summary = _sweep(emulator, fc_context)
        assert summary["errors"] == 1 and summary["delivered"] == 4
        assert "i-boom" not in _by_id(emulator)
        assert "RuntimeError" in summary["failures"][0] and "i-boom" in summary["failures"][0]

    def test_profiles_with_missing_fields_are_counted(self, emulator, fc_context):
        _fill(emulator, 2)
        original = emulator._handlers[("config", "ListDiscoveredResources")]

        def broken(params: dict[str, str]) -> dict[str, Any]:
            body = original(params)
            if params["ResourceDeleted"] == "1":
                body["DiscoveredResourceProfiles"]["DiscoveredResourceProfileList"].append(
                    {"ResourceType": TYPE, "Region": "cn-hangzhou"}
                )
            return body

        emulator.handle("config", "ListDiscoveredResources", broken)
        summary = _sweep(emulator, fc_context)
        assert summary["delivered"] == 2 and summary["errors"] == 1

    def test_listing_failure_delivers_what_was_evaluated_then_raises(self, emulator, fc_context):
        _fill(emulator, 150)
        # The first page lists fine; the second never comes back, attempt after attempt.
        emulator.script("ListDiscoveredResources", Pass(), *[Drop()] * 5)
        with pytest.raises(ApiError, match="ListDiscoveredResources"):
            _sweep(emulator, fc_context)
        assert len(emulator.evaluations) == 100


class TestDeadline:
    def _dispatch(
        self, emulator, clock_step: float, options: SweepOptions, timeout: float = 60.0
    ) -> Any:
        ticks = [0.0]

        def clock() -> float:
            ticks[0] += clock_step
            return ticks[0]

        client = ApiClient(TEST_CREDENTIALS)
        config = ConfigApi(client, endpoint=emulator.url)
        dispatcher = Dispatcher(
            Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, [SWEEPS]).rules,
            config=config,
            deadline=Deadline(timeout, clock=clock),
            sweep=options,
        )
        event = decode_event(scheduled_event())
        return dispatcher.dispatch(event, sink=ConfigSink(config, event.result_token))

    def test_a_short_deadline_stops_the_sweep_flushes_and_reports_the_rest(self, emulator):
        _fill(emulator, 300)
        # every clock read advances 1 s: with 60 s and a 10 s reserve, ~50 resources start
        result = self._dispatch(
            emulator, 1.0, SweepOptions(concurrency=1, reserve=10, delete_mode=True)
        )
        assert not result.complete
        assert 0 < result.resources < 300
        assert result.remaining == 300 - result.resources
        assert result.delivered == result.resources
        assert all(c.params.get("DeleteMode") is None for c in emulator.put_calls)
        assert result.to_dict()["remaining"] == result.remaining

    def test_delete_mode_only_on_the_last_call_of_a_complete_sweep(self, emulator):
        _fill(emulator, 150)
        result = self._dispatch(emulator, 0.0, SweepOptions(delete_mode=True))
        assert result.complete and result.delete_mode
        assert [c.params.get("DeleteMode") for c in emulator.put_calls] == [None, "true"]

    def test_no_delete_mode_when_a_resource_failed(self, emulator):
        _fill(emulator, 3)
        emulator.store.add(TYPE, "i-boom", configuration={"ImageId": "m-ok"})
        result = self._dispatch(emulator, 0.0, SweepOptions(delete_mode=True))
        assert result.complete and not result.delete_mode and result.errors == 1
        assert all("DeleteMode" not in c.params for c in emulator.put_calls)

    def test_delete_mode_is_off_unless_enabled(self, emulator, fc_context):
        _fill(emulator, 3)
        _sweep(emulator, fc_context)
        assert all("DeleteMode" not in c.params for c in emulator.put_calls)


def test_aggregator_sweeps_use_the_aggregate_apis(emulator, fc_context):
    emulator.aggregator_id = "ca-1234"
    emulator.store.add(
        TYPE, "i-member", account_id="2000000000005678", configuration={"ImageId": "m-ok"}
    )
    _sweep(emulator, fc_context, RULEKIT_AGGREGATOR_ID="ca-1234")
    retained, deleted = emulator.calls_of("ListAggregateDiscoveredResources")
    assert retained.params["AggregatorId"] == deleted.params["AggregatorId"] == "ca-1234"
    assert (retained.params["ResourceDeleted"], deleted.params["ResourceDeleted"]) == ("1", "0")
    [fetch] = emulator.calls_of("GetAggregateDiscoveredResource")
    assert fetch.params["ResourceAccountId"] == "2000000000005678"
    [ev] = emulator.evaluations
    assert ev["accountId"] == 2000000000005678 and ev["complianceType"] == "COMPLIANT"


def test_sweep_settings_are_validated(emulator, fc_context):
    from rulekit import ConfigurationError

    with pytest.raises(ConfigurationError, match="RULEKIT_SWEEP_CONCURRENCY"):
        _sweep(emulator, fc_context, RULEKIT_SWEEP_CONCURRENCY="0")
    with pytest.raises(ConfigurationError, match="RULEKIT_DELETE_MODE"):
        _sweep(emulator, fc_context, RULEKIT_DELETE_MODE="maybe")


class TestResourceGroups:
    """Only ListDiscoveredResources' profiles carry ResourceGroupId (official models): the
    aggregator's listing and both detail APIs do not (tests/test_contract.py)."""

    def _aggregate(self, emulator, fc_context, **parameters: str) -> dict[str, Any]:
        emulator.aggregator_id = "ca-1234"
        return run(
            scheduled_event(rule_parameters=parameters),
            fc_context,
            environ=emulator.environ(
                RULEKIT_RULES=SWEEPS,
                RULEKIT_RETRY_BASE_DELAY="0.01",
                RULEKIT_AGGREGATOR_ID="ca-1234",
            ),
        )

    def test_an_aggregator_sweep_reads_the_group_from_the_configuration(self, emulator, fc_context):
        emulator.store.add(
            TYPE, "i-in", configuration={"ImageId": "m-ok", "ResourceGroupId": "rg-1"}
        )
        emulator.store.add(
            TYPE, "i-out", configuration={"ImageId": "m-ok", "ResourceGroupId": "rg-2"}
        )
        summary = self._aggregate(emulator, fc_context, ResourceGroupIdsScope="rg-1")
        assert _by_id(emulator)["i-in"]["complianceType"] == "COMPLIANT"
        out = _by_id(emulator)["i-out"]
        assert out["complianceType"] == "NOT_APPLICABLE"
        assert "rg-2 is not in ResourceGroupIdsScope" in out["annotation"]
        assert "scopeUndecided" not in summary

    def test_an_aggregator_sweep_applies_exclude_resource_group_ids_scope(
        self, emulator, fc_context
    ):
        emulator.store.add(
            TYPE, "i-ex", configuration={"ImageId": "m-ok", "ResourceGroupId": "rg-x"}
        )
        emulator.store.add(
            TYPE, "i-ok", configuration={"ImageId": "m-ok", "ResourceGroupId": "rg-1"}
        )
        self._aggregate(emulator, fc_context, ExcludeResourceGroupIdsScope="rg-x")
        assert _by_id(emulator)["i-ex"]["complianceType"] == "NOT_APPLICABLE"
        assert "excluded by ExcludeResourceGroupIdsScope" in _by_id(emulator)["i-ex"]["annotation"]
        assert _by_id(emulator)["i-ok"]["complianceType"] == "COMPLIANT"

    def test_an_unknown_group_is_insufficient_data_never_a_guess(self, emulator, fc_context):
        # The stored group is not in any aggregate response, and the configuration has none.
        emulator.store.add(TYPE, "i-1", configuration={"ImageId": "m-ok"}, resource_group_id="rg-1")
        summary = self._aggregate(emulator, fc_context, ResourceGroupIdsScope="rg-1")
        [ev] = emulator.evaluations
        assert ev["complianceType"] == "INSUFFICIENT_DATA"
        assert ev["annotation"].startswith("resource group unknown")
        assert "ResourceGroupIdsScope cannot be decided" in ev["annotation"]
        assert summary["scopeUndecided"] == 1 and summary["errors"] == 0

    def test_a_resource_out_of_scope_by_another_field_is_not_applicable_not_undecided(
        self, emulator, fc_context
    ):
        # Excluded by id already: its unknown group does not matter, and it is not fetched.
        emulator.store.add(TYPE, "i-skip", configuration={"ImageId": "m-ok"})
        summary = self._aggregate(
            emulator, fc_context, ResourceGroupIdsScope="rg-1", ExcludeResourceIdsScope="i-skip"
        )
        [ev] = emulator.evaluations
        assert ev["complianceType"] == "NOT_APPLICABLE"
        assert "i-skip is excluded by ExcludeResourceIdsScope" in ev["annotation"]
        assert "scopeUndecided" not in summary
        assert emulator.calls_of("GetAggregateDiscoveredResource") == []

    def test_a_single_account_sweep_takes_the_group_from_the_listing_before_fetching(
        self, emulator, fc_context
    ):
        emulator.store.add(
            TYPE, "i-in", configuration={"ImageId": "m-ok"}, resource_group_id="rg-1"
        )
        emulator.store.add(
            TYPE, "i-out", configuration={"ImageId": "m-ok"}, resource_group_id="rg-2"
        )
        emulator.store.add(TYPE, "i-none", configuration={"ImageId": "m-ok"})
        summary = run(
            scheduled_event(rule_parameters={"ResourceGroupIdsScope": "rg-1"}),
            fc_context,
            environ=emulator.environ(RULEKIT_RULES=SWEEPS, RULEKIT_RETRY_BASE_DELAY="0.01"),
        )
        got = {k: v["complianceType"] for k, v in _by_id(emulator).items()}
        assert got == {"i-in": "COMPLIANT", "i-out": "NOT_APPLICABLE", "i-none": "NOT_APPLICABLE"}
        # Out-of-scope resources are judged from the listing: only the one in scope is fetched.
        assert [c.params["ResourceId"] for c in emulator.calls_of("GetDiscoveredResource")] == [
            "i-in"
        ]
        assert "scopeUndecided" not in summary


class TestDeletedResources:
    """ListDiscoveredResources lists retained resources unless ResourceDeleted=0 is sent."""

    def test_deleted_resources_are_listed_explicitly_and_not_applicable(self, emulator, fc_context):
        _fill(emulator, 2)
        emulator.store.add(TYPE, "i-gone", configuration={"ImageId": "m-ok"}, deleted=True)
        _sweep(emulator, fc_context)
        sent = [c.params["ResourceDeleted"] for c in emulator.calls_of("ListDiscoveredResources")]
        assert sent == ["1", "0"]
        deleted_listing = emulator.calls_of("ListDiscoveredResources")[1].params
        window = int(deleted_listing["EndUpdateTimestamp"]) - int(
            deleted_listing["StartUpdateTimestamp"]
        )
        assert window == 7 * 24 * 3600 * 1000  # the default lookback
        assert _by_id(emulator)["i-gone"]["complianceType"] == "NOT_APPLICABLE"
        assert len(emulator.evaluations) == 3

    def test_resources_deleted_before_the_lookback_are_not_reported(self, emulator, fc_context):
        emulator.store.add(TYPE, "i-long-gone", deleted=True, update_time=1_600_000_000_000)
        _sweep(emulator, fc_context, RULEKIT_DELETED_LOOKBACK_DAYS="1")
        assert emulator.evaluations == []

    def test_delete_mode_clears_stale_results_so_deleted_resources_are_not_listed(
        self, emulator, fc_context
    ):
        _fill(emulator, 2)
        emulator.store.add(TYPE, "i-gone", deleted=True)
        summary = _sweep(emulator, fc_context, RULEKIT_DELETE_MODE="true")
        sent = [c.params["ResourceDeleted"] for c in emulator.calls_of("ListDiscoveredResources")]
        assert sent == ["1"]
        assert summary["deleteMode"] is True and "i-gone" not in _by_id(emulator)
        assert emulator.put_calls[-1].params["DeleteMode"] == "true"

    def test_a_lookback_of_zero_lists_no_deleted_resources(self, emulator, fc_context):
        emulator.store.add(TYPE, "i-gone", deleted=True)
        _sweep(emulator, fc_context, RULEKIT_DELETED_LOOKBACK_DAYS="0")
        assert len(emulator.calls_of("ListDiscoveredResources")) == 1

    def test_a_lookback_beyond_the_api_window_is_refused(self, emulator, fc_context):
        from rulekit import ConfigurationError

        with pytest.raises(ConfigurationError, match="RULEKIT_DELETED_LOOKBACK_DAYS.*at most 30"):
            _sweep(emulator, fc_context, RULEKIT_DELETED_LOOKBACK_DAYS="31")
