"""Differential: over generated inventories (missing properties, nulls, arrays, nested objects
and non-objects where objects are expected, unicode, numbers as strings, integral floats), a sweep
by advanced search delivers exactly the evaluations and annotations of the per-resource sweep."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rulekit.handler import run
from rulekit.testing import scheduled_event

TYPE = "ACS::ECS::Instance"
RULES = ("instance-shape", "many-shapes", "image-and-cpu", "echo-reads")
MISSING = object()

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="'\\"), max_size=6)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 5000), _text)
_shapes = {
    "ImageId": st.one_of(
        st.sampled_from(["m-ok", "m-é", "m-old"]), _scalar, st.lists(_text, max_size=2)
    ),
    "Cpu": st.one_of(
        st.sampled_from([1, 2, 3, 2.5, 2.0, "2", "4"]), _scalar, st.floats(-5, 10, allow_nan=False)
    ),
    "Memory": st.one_of(st.sampled_from([1024, 8192, "4096", 1.5]), _scalar),
    "DeletionProtection": st.one_of(st.booleans(), st.sampled_from(["true", 0, 1]), st.none()),
    "VpcAttributes": st.one_of(
        st.fixed_dictionaries(
            {}, optional={"VpcId": st.one_of(_text, st.sampled_from(["vpc-1", ""]), st.none())}
        ),
        st.just("vpc-as-text"),
        st.lists(st.fixed_dictionaries({"VpcId": _text}), max_size=2),
    ),
    "SecurityGroupIds": st.one_of(
        st.fixed_dictionaries(
            {
                "SecurityGroupId": st.one_of(
                    st.lists(st.sampled_from(["sg-1", "sg-2"]), max_size=2), st.just("sg-1")
                )
            }
        ),
        st.just({}),
    ),
    "EipAddress": st.fixed_dictionaries(
        {}, optional={"IpAddress": st.sampled_from(["", "47.1.2.3"])}
    ),
    "InstanceName": st.one_of(st.sampled_from(["prod-web", "test-1", "ünïcode-prod"]), _scalar),
}
# Mostly objects; now and then what the platform recorded but cannot be read as JSON.
_configuration = st.one_of(
    st.fixed_dictionaries({}, optional=_shapes), st.just('{"ImageId": "m-ok", ')
)
_inventory = st.lists(
    st.tuples(st.sampled_from(["cn-hangzhou", "cn-beijing"]), _configuration),
    min_size=1,
    max_size=12,
)


def _sweep(
    emulator: Any, fc_context: Any, rule_name: str, search: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    emulator.evaluations.clear()
    summary = run(
        scheduled_event(),
        fc_context,
        environ=emulator.environ(
            RULEKIT_RULES="sample_rules.searched",
            RULEKIT_RULE=rule_name,
            RULEKIT_ADVANCED_SEARCH="true" if search else "false",
            RULEKIT_DELETED_LOOKBACK_DAYS="0",
        ),
    )
    evaluations = {
        e["complianceResourceId"]: (
            e["complianceResourceType"],
            e["complianceRegionId"],
            e["accountId"],
            e["complianceType"],
            e.get("annotation"),
        )
        for e in emulator.evaluations
    }
    return summary, evaluations


def test_a_searched_sweep_evaluates_exactly_as_the_per_resource_sweep(emulator, fc_context):
    served: Counter[str] = Counter()

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    # Always run: one resource every rule reads from its row, one that must be fetched.
    @example(
        [
            (
                "cn-hangzhou",
                {
                    "ImageId": "m-ok",
                    "Cpu": 2,
                    "Memory": 1024,
                    "DeletionProtection": True,
                    "VpcAttributes": {"VpcId": "vpc-1"},
                    "SecurityGroupIds": {"SecurityGroupId": ["sg-1"]},
                    "InstanceName": "prod-web",
                },
            ),
            ("cn-beijing", {}),
        ]
    )
    @given(_inventory)
    def check(inventory: list[tuple[str, dict[str, Any]]]) -> None:
        emulator.reset()
        for n, (region, configuration) in enumerate(inventory):
            emulator.store.add(TYPE, f"i-{n:03d}", region=region, configuration=configuration)
        for rule_name in RULES:
            per_resource_summary, per_resource = _sweep(emulator, fc_context, rule_name, False)
            searched_summary, searched = _sweep(emulator, fc_context, rule_name, True)
            assert searched == per_resource, rule_name
            assert len(searched) == len(inventory) == searched_summary["resources"]
            assert searched_summary["errors"] == per_resource_summary["errors"]
            stats = searched_summary["advancedSearch"]
            assert stats["searched"] + stats["fallbacks"] == len(inventory)
            served.update(searched=stats["searched"], fallbacks=stats["fallbacks"])

    check()
    # Both paths were exercised: rows decoded from the search and rows sent to a fetch.
    assert served["searched"] > 0 and served["fallbacks"] > 0, served
