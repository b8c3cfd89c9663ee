"""Sweeps by advanced search: the emulator's SQL subset and limits, which reads the SQL can serve,
how answer rows map back to configurations, partitioning past the 1,000-row cap, and every
fallback to per-resource fetches (docs/sweeps.md; the dialect per research16.md §1.3)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rulekit import Compliance, RuleDefinitionError, rule
from rulekit._advanced_search import (
    SearchPlan,
    UndeclaredRead,
    answer_rows,
    plan_reads,
    property_columns,
    searched_configuration,
    searched_resource,
    select_sql,
)
from rulekit.conditions import all_of, condition_rule, path
from rulekit.handler import run
from rulekit.testing import ApiFailure, scheduled_event
from rulekit.testing._advanced_search import search
from rulekit.testing._faults import ApiCallError

TYPE = "ACS::ECS::Instance"
SEARCHED = "sample_rules.searched"
DATA = Path(__file__).parent / "data" / "resource-types"


def _sql(emulator: Any, sql: str) -> dict[str, Any]:
    result: dict[str, Any] = search(emulator.store.select(None, None), sql)
    return result["QueryResults"]["QueryResultList"]


def _sweep(emulator: Any, fc_context: Any, rule_name: str, **env: str) -> dict[str, Any]:
    return run(
        scheduled_event(),
        fc_context,
        environ=emulator.environ(
            RULEKIT_RULES=SEARCHED,
            RULEKIT_RULE=rule_name,
            RULEKIT_RETRY_BASE_DELAY="0.01",
            RULEKIT_DELETED_LOOKBACK_DAYS="0",
            **env,
        ),
    )


def _instances(emulator: Any, count: int, region: str = "cn-hangzhou", **config: Any) -> None:
    for n in range(count):
        configuration = {
            "ImageId": "m-ok" if n % 3 else "m-old",
            "Cpu": 2 + n % 3,
            "VpcAttributes": {"VpcId": "vpc-1"},
            "DeletionProtection": n % 2 == 0,
            "InstanceName": "prod-web",
            "InstanceType": "ecs.g7",
            **config,
        }
        emulator.store.add(
            TYPE, f"i-{region[3:5]}{n:05d}", region=region, configuration=configuration
        )


def _calls(emulator: Any) -> Counter[str]:
    return Counter(c.action for c in emulator.calls if c.action != "PutEvaluations")


# -- the emulator's dialect -------------------------------------------------------------------
class TestEmulatorDialect:
    def test_columns_are_the_property_files_keys_including_the_invalid_json_ones(self):
        for source in DATA.glob("*.properties.json"):
            text = source.read_text()
            try:
                expected = json.loads(text)
            except ValueError:  # ACS_ECS_Disk is published with a trailing comma
                expected = json.loads(re.sub(r",\s*}", "}", text))
            name = source.name.removesuffix(".properties.json").replace("_", "::")
            assert property_columns(name) == expected, name
        assert "ExpiredTime" in (property_columns("ACS::ECS::Disk") or {})

    def test_select_without_from_keeps_the_configurations_json_types(self, emulator):
        emulator.store.add(
            TYPE,
            "i-1",
            configuration={"Cpu": 2, "ImageId": "m-é", "IoOptimized": True, "Memory": "4096"},
        )
        answer = _sql(
            emulator,
            "SELECT ResourceId, Cpu, ImageId, IoOptimized, Memory, HostName "
            f"WHERE ResourceType = '{TYPE}'",
        )
        assert answer["Columns"] == [
            "ResourceId",
            "Cpu",
            "ImageId",
            "IoOptimized",
            "Memory",
            "HostName",
        ]
        assert answer["Values"] == [["i-1", 2, "m-é", True, "4096", None]]

    def test_select_star_returns_the_documented_default_columns(self, emulator):
        emulator.store.add(TYPE, "i-1", name="web", resource_group_id="rg-1")
        answer = _sql(emulator, f"SELECT * WHERE ResourceType = '{TYPE}'")
        assert answer["Columns"] == [
            "AccountId",
            "RegionId",
            "ResourceId",
            "ResourceType",
            "ResourceName",
            "ResourceCreationTime",
            "ResourceGroupId",
        ]
        assert answer["Values"][0][2:5] == ["i-1", TYPE, "web"]

    def test_array_conditions_hold_on_any_element_independently(self, emulator):
        # The docs' limits page: A from one element and sls from another still match.
        interfaces = [{"VpcId": "A", "Type": "ecs"}, {"VpcId": "B", "Type": "sls"}]
        emulator.store.add(
            TYPE, "i-1", configuration={"NetworkInterfaces": {"NetworkInterface": interfaces}}
        )
        answer = _sql(
            emulator,
            "SELECT ResourceId, NetworkInterfaces.NetworkInterface.VpcId WHERE "
            "NetworkInterfaces.NetworkInterface.VpcId = 'A' AND "
            "NetworkInterfaces.NetworkInterface.Type = 'sls'",
        )
        assert answer["Values"] == [["i-1", ["A", "B"]]]

    def test_count_group_by_order_by_and_suffix_like(self, emulator):
        for n in range(5):
            emulator.store.add(TYPE, f"i-{n}", region="cn-beijing" if n < 3 else "cn-hangzhou")
        emulator.store.add("ACS::OSS::Bucket", "b-1", region="cn-beijing")
        counts = _sql(
            emulator,
            f"SELECT RegionId, COUNT(1) WHERE ResourceType = '{TYPE}' GROUP BY RegionId "
            "ORDER BY COUNT(1) DESC",
        )
        assert counts["Values"] == [["cn-beijing", 3], ["cn-hangzhou", 2]]
        assert _sql(emulator, "SELECT COUNT(1) WHERE ResourceType LIKE 'ACS::ECS::%'")[
            "Values"
        ] == [[5]]
        keyset = _sql(
            emulator,
            f"SELECT ResourceId WHERE ResourceType = '{TYPE}' AND ResourceId > 'i-2' "
            "ORDER BY ResourceId",
        )
        assert keyset["Values"] == [["i-3"], ["i-4"]]

    def test_an_answer_is_cut_at_1000_rows_without_a_paging_token(self, emulator):
        _instances(emulator, 1001)
        answer = _sql(emulator, f"SELECT ResourceId WHERE ResourceType = '{TYPE}'")
        assert len(answer["Values"]) == 1000
        assert set(answer) == {"Columns", "Values"}

    @pytest.mark.parametrize(
        ("sql", "message"),
        [
            (f"SELECT ResourceId FROM resources WHERE ResourceType = '{TYPE}'", "FROM is not"),
            ("SELECT DISTINCT ResourceId", "DISTINCT is not"),
            ("SELECT ResourceId WHERE Cpu = 1 OR Cpu = 2", "OR is not"),
            ("SELECT ResourceId WHERE Cpu < 2", "operator < is not"),
            ("SELECT ResourceId WHERE ResourceId LIKE '%abc'", "only as suffixes"),
            ("SELECT ResourceId WHERE ResourceId IN ('a')", "IN is not"),
            (f"SELECT Status WHERE ResourceType = '{TYPE}'", "column Status does not exist"),
            ("SELECT ResourceId, COUNT(1)", "needs GROUP BY"),
        ],
    )
    def test_what_the_dialect_does_not_have_is_a_400(self, emulator, sql, message):
        with pytest.raises(ApiCallError, match=message) as caught:
            _sql(emulator, sql)
        assert (caught.value.status, caught.value.code) == (400, "InvalidParameter.Sql")

    def test_the_aggregate_action_needs_the_aggregator(self, emulator, fc_context):
        emulator.aggregator_id = "ca-1"
        _instances(emulator, 3)
        summary = _sweep(emulator, fc_context, "instance-shape", RULEKIT_AGGREGATOR_ID="ca-1")
        assert summary["advancedSearch"]["searched"] == 3
        assert _calls(emulator)["ListAggregateResourcesByAdvancedSearch"] == 2
        assert not emulator.calls_of("ListResourcesByAdvancedSearch")


# -- which reads the SQL serves ---------------------------------------------------------------
def _python_rule(reads: list[str] | None) -> Any:
    @rule(resource_type=TYPE, reads=reads)
    def declared(resource):
        return Compliance.COMPLIANT

    return declared


class TestPlans:
    def test_a_condition_rule_reads_its_feature_paths(self):
        shape = condition_rule(
            "shape",
            TYPE,
            all_of(
                path("$.Cpu").greater(1),
                path("$.VpcAttributes.VpcId").is_string_not_empty(),
                path("$.Cpu").less(9),
            ),
        )
        assert shape.reads == shape.condition.feature_paths() == ("$.Cpu", "$.VpcAttributes.VpcId")
        plan = plan_reads(shape, TYPE)
        assert isinstance(plan, SearchPlan) and plan.null_is_absent
        assert [c.name for c in plan.columns] == ["Cpu", "VpcAttributes.VpcId"]
        assert select_sql(plan, TYPE, "cn-hangzhou", "i-9") == (
            "SELECT ResourceId, RegionId, AccountId, ResourceName, ResourceGroupId, Cpu, "
            f"VpcAttributes.VpcId WHERE ResourceType = '{TYPE}' AND RegionId = 'cn-hangzhou' "
            "AND ResourceId > 'i-9' ORDER BY ResourceId"
        )

    @pytest.mark.parametrize(
        ("reads", "why"),
        [
            (None, "does not declare its reads"),
            (["$.Status"], "not a searchable property"),  # ECS Status is no column
            (["$.ResourceGroupId"], "not a searchable property"),  # metadata, not configuration
            (["$.ExpiredTime"], "date property"),
            (["$.DataDisks[0].Size"], "not a plain path"),
            (["$.Tags.Tag[*].TagKey"], "not a plain path"),
            (["$.EipAddress"], "not a searchable property"),  # an object, no column
        ],
    )
    def test_reads_the_sql_cannot_express(self, reads, why):
        assert why in str(plan_reads(_python_rule(reads), TYPE))

    def test_without_the_column_table_every_type_is_swept_per_resource(self, monkeypatch, caplog):
        import rulekit._advanced_search as module

        monkeypatch.setattr(module, "__file__", "/nonexistent/_advanced_search.py")
        module._columns.cache_clear()
        try:
            assert "no property file" in str(plan_reads(_python_rule(["$.ImageId"]), TYPE))
            assert "column table is unreadable" in caplog.text
        finally:
            monkeypatch.undo()
            module._columns.cache_clear()

    def test_an_unknown_type_is_not_searched(self):
        assert "no property file" in str(plan_reads(_python_rule([]), "ACS::Foo::Bar"))

    @pytest.mark.parametrize(
        ("reads", "message"),
        [
            ("$.ImageId", "reads= is a list of JSONPaths"),
            (["ImageId"], "starting with '\\$'"),
            (["$.a[?(@.b=="], "invalid JSONPath"),
            ([3], "starting with '\\$'"),
        ],
    )
    def test_reads_are_checked_at_definition_naming_the_rule(self, reads, message):
        with pytest.raises(RuleDefinitionError, match=f"rule 'declared'.*{message}"):
            _python_rule(reads)


# -- answer rows back to configurations -------------------------------------------------------
def _plan(*reads: str, condition: bool = False) -> SearchPlan:
    plan = plan_reads(_python_rule(list(reads)), TYPE)
    assert isinstance(plan, SearchPlan)
    return plan._replace(null_is_absent=condition)


class TestDecoding:
    def test_rows_may_arrive_as_json_strings_as_the_docs_example_shows(self):
        body = {
            "QueryResults": {"QueryResultList": {"Columns": ["ResourceId"], "Values": ['["i-1"]']}}
        }
        assert answer_rows(body, "ListResourcesByAdvancedSearch") == [{"ResourceId": "i-1"}]

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ({"Cpu": 2}, {"Cpu": 2}),
            ({"Cpu": 2.5}, {"Cpu": 2.5}),
            ({"Cpu": 2.0}, None),  # recorded as 2 or as 2.0? not knowable
            ({"Cpu": "2"}, None),  # a string for a float property: converted somewhere
            ({"Cpu": True}, None),
            ({"Memory": 1.5}, None),  # a float for an integer property
            ({"DeletionProtection": "true"}, None),
            ({"DeletionProtection": False}, {"DeletionProtection": False}),
            ({"ImageId": ["m-1"]}, None),  # an array: the leaf's, or one through an array?
            ({"ImageId": {"a": 1}}, None),
            ({"ImageId": "m-é"}, {"ImageId": "m-é"}),
        ],
    )
    def test_only_values_of_the_propertys_own_type_are_trusted(self, value, expected):
        (key,) = value
        assert searched_configuration(value, _plan(f"$.{key}")) == expected

    def test_a_null_is_absent_for_a_condition_rule_and_a_fetch_for_a_python_rule(self):
        row = {"VpcAttributes.VpcId": None, "ImageId": "m-1"}
        assert searched_configuration(
            row, _plan("$.VpcAttributes.VpcId", "$.ImageId", condition=True)
        ) == {"ImageId": "m-1"}
        assert searched_configuration(row, _plan("$.VpcAttributes.VpcId", "$.ImageId")) is None

    def test_a_row_with_every_read_null_is_fetched_even_for_a_condition_rule(self):
        # No property at all, or a configuration the index could not read: only the fetch tells.
        row = {"VpcAttributes.VpcId": None, "ImageId": None}
        assert (
            searched_configuration(row, _plan("$.VpcAttributes.VpcId", "$.ImageId", condition=True))
            is None
        )

    def test_reading_outside_the_declared_reads_is_refused_and_remembered(self):
        row = {"ResourceId": "i-1", "RegionId": "r", "ImageId": "m-1", "VpcAttributes.VpcId": "v"}
        resource = searched_resource(row, _plan("$.ImageId", "$.VpcAttributes.VpcId"), TYPE)
        assert resource is not None
        assert resource["$.ImageId"] == "m-1" and resource.get("$.VpcAttributes.VpcId") == "v"
        for read in (
            lambda: resource.get("$.InstanceType"),
            lambda: resource.get("$.VpcAttributes.VSwitchId"),  # beside a declared one
            lambda: resource.find("$.VpcAttributes.*"),
            lambda: json.dumps(resource.configuration),
            lambda: dict(resource.configuration),
            lambda: resource.tags,
        ):
            with pytest.raises(UndeclaredRead):
                read()
        assert resource.undeclared == "$.InstanceType"


# -- sweeps -----------------------------------------------------------------------------------
class TestSweeps:
    def test_fewer_than_5_calls_per_1000_resources_past_the_row_cap(self, emulator, fc_context):
        _instances(emulator, 2500)
        summary = _sweep(emulator, fc_context, "instance-shape")
        assert summary["resources"] == summary["delivered"] == 2500
        assert summary["advancedSearch"] == {"calls": 4, "searched": 2500, "fallbacks": 0}
        assert _calls(emulator) == {"ListResourcesByAdvancedSearch": 4}  # 1 count + 3 pages
        sqls = [c.params["Sql"] for c in emulator.calls_of("ListResourcesByAdvancedSearch")]
        assert "ResourceId > 'i-ha00999'" in sqls[2] and "ResourceId > 'i-ha01999'" in sqls[3]
        assert not emulator.calls_of("GetDiscoveredResource")

    def test_exactly_1000_rows_is_taken_as_cut_and_read_on(self, emulator, fc_context):
        _instances(emulator, 1000)
        summary = _sweep(emulator, fc_context, "instance-shape")
        assert summary["resources"] == 1000
        assert _calls(emulator)["ListResourcesByAdvancedSearch"] == 3  # the last one is empty

    def test_regions_are_partitions_and_the_region_scope_narrows_them(self, emulator, fc_context):
        _instances(emulator, 3, "cn-hangzhou")
        _instances(emulator, 4, "cn-beijing")
        event = scheduled_event(rule_parameters={"RegionIdsScope": "cn-beijing"})
        env = emulator.environ(RULEKIT_RULES=SEARCHED, RULEKIT_RULE="instance-shape")
        summary = run(event, fc_context, environ=env)
        assert summary["advancedSearch"]["searched"] == 4
        sqls = [c.params["Sql"] for c in emulator.calls_of("ListResourcesByAdvancedSearch")]
        assert len(sqls) == 2 and "RegionId = 'cn-beijing'" in sqls[1]

    def test_an_answer_cut_some_other_way_falls_back_and_loses_nothing(self, emulator, fc_context):
        _instances(emulator, 1500)
        original = emulator._handlers[("config", "ListResourcesByAdvancedSearch")]

        def unordered(params: dict[str, str]) -> dict[str, Any]:
            body = original(params)  # a platform ignoring ORDER BY: the largest ids come first
            if "ORDER BY" in params["Sql"]:
                listing = body["QueryResults"]["QueryResultList"]
                listing["Values"] = sorted(listing["Values"], reverse=True)[:999]
            return body

        emulator.handle("config", "ListResourcesByAdvancedSearch", unordered)
        summary = _sweep(emulator, fc_context, "instance-shape")
        stats = summary["advancedSearch"]
        assert summary["resources"] == 1500 and summary["errors"] == 0
        assert (stats["searched"], stats["fallbacks"]) == (999, 501)
        assert "returned 999 of 1500" in stats["fallbackReasons"][0]
        fetched = [c.params["ResourceId"] for c in emulator.calls_of("GetDiscoveredResource")]
        assert len(fetched) == len(set(fetched)) == 501
        assert len({e["complianceResourceId"] for e in emulator.evaluations}) == 1500

    def test_an_sql_the_platform_refuses_falls_back_to_the_listing(self, emulator, fc_context):
        _instances(emulator, 5)
        emulator.script(
            "ListResourcesByAdvancedSearch", ApiFailure(400, "InvalidParameter.Sql", "no")
        )
        summary = _sweep(emulator, fc_context, "instance-shape")
        assert summary["resources"] == 5 and summary["advancedSearch"]["fallbacks"] == 5
        assert _calls(emulator) == {
            "ListResourcesByAdvancedSearch": 1,
            "ListDiscoveredResources": 1,
            "GetDiscoveredResource": 5,
        }

    def test_a_region_refused_midway_keeps_what_was_searched(self, emulator, fc_context):
        _instances(emulator, 1200)
        from rulekit.testing import Pass

        emulator.script(
            "ListResourcesByAdvancedSearch",
            Pass(),
            Pass(),
            ApiFailure(400, "InvalidParameter.Sql", "no"),
        )
        summary = _sweep(emulator, fc_context, "instance-shape")
        stats = summary["advancedSearch"]
        assert summary["resources"] == 1200 and (stats["searched"], stats["fallbacks"]) == (
            1000,
            200,
        )

    def test_undecodable_rows_are_fetched_one_by_one(self, emulator, fc_context):
        _instances(emulator, 4)
        _instances(emulator, 2, "cn-shanghai", Cpu="2")  # a string where the file says float
        summary = _sweep(emulator, fc_context, "instance-shape")
        assert summary["advancedSearch"]["fallbacks"] == 2
        fetched = {c.params["ResourceId"] for c in emulator.calls_of("GetDiscoveredResource")}
        assert fetched == {"i-sh00000", "i-sh00001"}

    @pytest.mark.parametrize(
        ("rule_name", "compliance"),
        [
            ("reads-more-than-declared", {"COMPLIANT": 2, "NON_COMPLIANT": 1}),  # i-..0: m-old
            # Had it seen the partial configuration it would say "type unknown", NON_COMPLIANT.
            ("swallows-undeclared-reads", {"COMPLIANT": 3}),
        ],
    )
    def test_an_undeclared_read_gets_the_whole_configuration(
        self, emulator, fc_context, rule_name, compliance
    ):
        _instances(emulator, 3)
        summary = _sweep(emulator, fc_context, rule_name)
        assert summary["compliance"] == compliance
        assert summary["advancedSearch"]["fallbacks"] == 3
        assert len(emulator.calls_of("GetDiscoveredResource")) == 3

    def test_an_inexpressible_read_keeps_the_type_per_resource(self, emulator, fc_context):
        _instances(emulator, 3)

        shape = condition_rule("status-check", TYPE, path("$.Status").string_equals("Running"))
        from rulekit._config_api import ConfigApi
        from rulekit._search_sweep import SearchListing

        class _Prepared:
            rule, scope = shape, shape.scope

        listing = SearchListing(
            ConfigApi(_client(), endpoint=emulator.url), _Prepared(), aggregator_id=None
        )  # type: ignore[arg-type]
        pages = list(listing.pages())
        assert sum(len(p.profiles) for p in pages) == 3
        assert "not a searchable property" in listing.stats.reasons[0]
        assert _calls(emulator) == {"ListDiscoveredResources": 1}

    def test_a_tag_scope_or_the_setting_turns_the_search_off(self, emulator, fc_context):
        _instances(emulator, 2)
        tagged = scheduled_event(rule_parameters={"TagKeyScope": "env"})
        env = emulator.environ(RULEKIT_RULES=SEARCHED, RULEKIT_RULE="instance-shape")
        assert "advancedSearch" not in run(tagged, fc_context, environ=env)
        off = _sweep(emulator, fc_context, "instance-shape", RULEKIT_ADVANCED_SEARCH="false")
        assert "advancedSearch" not in off
        assert not emulator.calls_of("ListResourcesByAdvancedSearch")
        with pytest.raises(Exception, match="RULEKIT_ADVANCED_SEARCH must be true or false"):
            _sweep(emulator, fc_context, "instance-shape", RULEKIT_ADVANCED_SEARCH="maybe")


def _client() -> Any:
    from rulekit._api import ApiClient
    from rulekit.testing import TEST_CREDENTIALS

    return ApiClient(TEST_CREDENTIALS)


def test_a_searched_sweep_out_of_time_reports_the_rest_from_the_counts(emulator):
    from rulekit._api import ApiClient
    from rulekit._config_api import ConfigApi
    from rulekit._deadline import Deadline
    from rulekit._delivery import ConfigSink
    from rulekit._dispatcher import Dispatcher
    from rulekit._event import decode_event
    from rulekit._plugins import Plugins
    from rulekit._settings import SweepOptions
    from rulekit.testing import TEST_CREDENTIALS

    _instances(emulator, 300)
    ticks = [0.0]

    def clock() -> float:  # every clock read advances 1 s: ~50 resources start
        ticks[0] += 1.0
        return ticks[0]

    config = ConfigApi(ApiClient(TEST_CREDENTIALS), endpoint=emulator.url)
    rules = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, [SEARCHED]).rules
    dispatcher = Dispatcher(
        [rules["instance-shape"]],
        config=config,
        deadline=Deadline(60.0, clock=clock),
        sweep=SweepOptions(concurrency=1, reserve=10),
    )
    event = decode_event(scheduled_event())
    result = dispatcher.dispatch(event, sink=ConfigSink(config, event.result_token))
    assert not result.complete and 0 < result.resources < 300
    assert result.remaining == 300 - result.resources  # the COUNT per region's total
    assert result.advanced_search["searched"] == result.resources
