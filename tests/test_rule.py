"""@rule: metadata, definition-time checks, injection by name, and what a rule may return."""

from __future__ import annotations

from typing import Any

import pytest

from rulekit import (
    Compliance,
    Evaluation,
    EvaluationError,
    Params,
    Resource,
    Rule,
    RuleDefinitionError,
    rule,
)
from rulekit._context import Context
from rulekit._event import decode_event
from rulekit.testing import change_event

RESOURCE = Resource(
    id="i-1",
    type="ACS::ECS::Instance",
    region="cn-hangzhou",
    account_id="1234",
    name="web",
    configuration={"ImageId": "m-1"},
)


def _ctx(r: Rule) -> Context:
    event = decode_event(change_event("ACS::ECS::Instance", "i-1", {"ImageId": "m-1"}))
    return Context(event=event, rule=r, resource=RESOURCE)


def _evaluate(r: Rule, params: Any = None) -> list[Evaluation]:
    return r.evaluate(RESOURCE, params if params is not None else {}, _ctx(r))


class TestMetadata:
    def test_name_defaults_to_the_function_name_with_dashes(self):
        @rule(resource_type="ACS::ECS::Instance")
        def ecs_instance_no_public_ip(resource):
            return Compliance.COMPLIANT

        assert ecs_instance_no_public_ip.name == "ecs-instance-no-public-ip"

    def test_declared_metadata_is_kept_for_deployment(self):
        @rule(
            resource_types=["ACS::ECS::Instance", "ACS::ECS::Disk"],
            name="custom",
            description="desc",
            risk_level=1,
            frequency="Six_Hours",
            triggers=["ScheduledNotification"],
        )
        def f(resource):
            return Compliance.COMPLIANT

        assert (f.name, f.description, f.risk_level) == ("custom", "desc", 1)
        assert f.resource_types == ("ACS::ECS::Instance", "ACS::ECS::Disk")
        assert f.triggers == ("ScheduledNotification",)
        assert f.frequency == "Six_Hours"
        assert f.scope.resource_types == f.resource_types

    def test_defaults_change_trigger_and_medium_risk_and_docstring_description(self):
        @rule(resource_type="ACS::ECS::Instance")
        def f(resource):
            """Instances must be tagged.

            More detail."""
            return Compliance.COMPLIANT

        assert f.triggers == ("ConfigurationItemChangeNotification",)
        assert f.frequency is None and f.risk_level == 2
        assert f.description == "Instances must be tagged."

    def test_frequency_alone_makes_a_scheduled_rule_and_scheduled_defaults_to_daily(self):
        @rule(resource_type="ACS::ECS::Instance", frequency="One_Hour")
        def hourly(resource):
            return Compliance.COMPLIANT

        @rule(resource_type="ACS::ECS::Instance", triggers="ScheduledNotification")
        def daily(resource):
            return Compliance.COMPLIANT

        assert hourly.triggers == ("ScheduledNotification",)
        assert daily.frequency == "TwentyFour_Hours"

    def test_the_decorated_function_stays_callable(self):
        @rule(resource_type="ACS::ECS::Instance")
        def f(resource):
            return resource.id

        assert f(RESOURCE) == "i-1"


class TestDefinitionErrors:
    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"resource_type": "ECS::Instance"}, "not a resource type"),
            ({"resource_type": "ACS::ECS::Instance", "risk_level": 4}, "risk_level"),
            ({"resource_type": "ACS::ECS::Instance", "triggers": ["OnChange"]}, "unknown trigger"),
            ({"resource_type": "ACS::ECS::Instance", "frequency": "Hourly"}, "unknown frequency"),
            ({"resource_type": "ACS::ECS::Instance", "params": dict}, "Params subclass"),
            (
                {"resource_type": "ACS::ECS::Instance", "scope": {"RegionScope": "x"}},
                "unknown scope field 'RegionScope'",
            ),
            ({"resource_type": "ACS::ECS::Instance", "name": "has space"}, "rule name"),
            ({}, "declare resource_type"),
        ],
    )
    def test_bad_declarations_fail_at_definition_with_file_and_line(self, kwargs, message):
        with pytest.raises(RuleDefinitionError, match=message) as caught:

            @rule(**kwargs)
            def bad_rule(resource):
                return Compliance.COMPLIANT

        assert "test_rule.py:" in str(caught.value)
        assert "'bad-rule'" in str(caught.value) or "has space" in str(caught.value)

    def test_unknown_function_parameter_is_rejected(self):
        with pytest.raises(RuleDefinitionError, match="parameter 'config'.*resource, params, ctx"):

            @rule(resource_type="ACS::ECS::Instance")
            def f(config):
                return Compliance.COMPLIANT

    def test_varargs_are_rejected(self):
        with pytest.raises(RuleDefinitionError, match=r"\*args"):

            @rule(resource_type="ACS::ECS::Instance")
            def f(*args):
                return Compliance.COMPLIANT


class TestInjection:
    def test_function_receives_only_what_it_names(self):
        seen: dict[str, Any] = {}

        @rule(resource_type="ACS::ECS::Instance")
        def f(ctx, resource):
            seen.update(ctx=ctx, resource=resource)
            return Compliance.COMPLIANT

        _evaluate(f)
        assert seen["resource"] is RESOURCE
        assert isinstance(seen["ctx"], Context)
        assert seen["ctx"].ordering_timestamp == 1700000000123
        assert seen["ctx"].account_id == "1234"

    def test_params_model_instance_is_passed(self):
        class P(Params):
            image_ids: list[str]

        @rule(resource_type="ACS::ECS::Instance", params=P)
        def f(resource, params):
            return (
                Compliance.COMPLIANT
                if resource["$.ImageId"] in params.image_ids
                else Compliance.NON_COMPLIANT
            )

        assert (
            _evaluate(f, f.parse_params({"imageIds": "m-1,m-2"}))[0].compliance
            is Compliance.COMPLIANT
        )

    def test_without_a_model_params_is_the_raw_dict(self):
        @rule(resource_type="ACS::ECS::Instance")
        def f(params):
            return Compliance.COMPLIANT if params == {"a": "1"} else Compliance.NON_COMPLIANT

        assert _evaluate(f, f.parse_params({"a": "1"}))[0].compliance is Compliance.COMPLIANT


class TestReturnForms:
    def _run(self, value: Any) -> list[Evaluation]:
        @rule(resource_type="ACS::ECS::Instance")
        def f(resource):
            return value() if callable(value) else value

        return _evaluate(f)

    def test_a_compliance(self):
        [ev] = self._run(Compliance.NON_COMPLIANT)
        assert (ev.resource_id, ev.resource_type, ev.compliance, ev.annotation) == (
            "i-1",
            "ACS::ECS::Instance",
            Compliance.NON_COMPLIANT,
            None,
        )

    def test_a_pair_with_text_annotation(self):
        [ev] = self._run((Compliance.NON_COMPLIANT, "image m-9 is not approved"))
        assert ev.annotation == "image m-9 is not approved"

    def test_a_pair_with_platform_annotation_dict(self):
        [ev] = self._run(
            (
                Compliance.NON_COMPLIANT,
                {
                    "configuration": "classic",
                    "desiredValue": "vpc",
                    "operator": "StringEquals",
                    "property": "$.InstanceNetworkType",
                },
            )
        )
        ev = Evaluation(
            **{**_fields(ev), "region_id": "r", "account_id": "1", "ordering_timestamp": 1}
        )
        assert ev.to_wire()["annotation"] == (
            '{"configuration":"classic","desiredValue":"vpc","operator":"StringEquals",'
            '"property":"$.InstanceNetworkType"}'
        )

    def test_an_evaluation(self):
        [ev] = self._run(Evaluation("i-2", "ACS::ECS::Instance", Compliance.COMPLIANT))
        assert ev.resource_id == "i-2"

    def test_several_evaluations_returned_or_yielded(self):
        many = [Evaluation(f"d-{n}", "ACS::ECS::Disk", "COMPLIANT") for n in range(3)]
        assert [e.resource_id for e in self._run(many)] == ["d-0", "d-1", "d-2"]
        assert [e.resource_id for e in self._run(lambda: (e for e in many))] == [
            "d-0",
            "d-1",
            "d-2",
        ]

    @pytest.mark.parametrize(
        "value, message",
        [
            (None, "returned None"),
            (42, "returned int"),
            ("MAYBE", "not a compliance type"),
            ([Compliance.COMPLIANT, object()], "returned object"),
        ],
    )
    def test_anything_else_is_an_evaluation_error_naming_rule_and_resource(self, value, message):
        with pytest.raises(EvaluationError, match=message) as caught:
            self._run(value)
        assert "ACS::ECS::Instance i-1" in str(caught.value)

    def test_an_exception_in_the_rule_is_wrapped_and_chained(self):
        def boom():
            raise KeyError("Disks")

        with pytest.raises(
            EvaluationError, match="raised KeyError on ACS::ECS::Instance i-1"
        ) as caught:
            self._run(boom)
        assert isinstance(caught.value.__cause__, KeyError)

    def test_missing_configuration_path_names_the_path_and_resource(self):
        @rule(resource_type="ACS::ECS::Instance")
        def f(resource):
            return Compliance.COMPLIANT if resource["$.VpcAttributes.VpcId"] else None

        with pytest.raises(EvaluationError, match=r"\$\.VpcAttributes\.VpcId is not in"):
            _evaluate(f)


def _fields(ev: Evaluation) -> dict[str, Any]:
    return {name: getattr(ev, name) for name in Evaluation.__dataclass_fields__}


def test_a_params_model_that_cannot_be_built_fails_at_definition():
    class Broken(Params):
        image_ids: NoSuchType  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(RuleDefinitionError, match="params model Broken cannot be built") as caught:

        @rule(resource_type="ACS::ECS::Instance", params=Broken)
        def f(resource, params):
            return Compliance.COMPLIANT

    assert "test_rule.py:" in str(caught.value) and "'f'" in str(caught.value)


def test_parameters_are_parsed_once_per_distinct_set_on_a_warm_instance():
    class Limits(Params):
        max_count: int

    @rule(resource_type="ACS::ECS::Instance", params=Limits, name="cached-params")
    def cached(resource, params):
        return Compliance.COMPLIANT

    first = cached.configure({"maxCount": "3"})
    assert cached.configure({"maxCount": "3"}) is first  # the warm invocation's reuse
    other = cached.configure({"maxCount": "4"})
    assert other is not first and other.params.max_count == 4 and first.params.max_count == 3
    overridden = cached.configure({"maxCount": "3", "regionIdsScope": "cn-hangzhou"})
    assert overridden.overridden == ("RegionIdsScope",)
    assert overridden.scope.region_ids == ("cn-hangzhou",) and first.scope.region_ids == ()
    assert (
        cached.configure({"maxCount": "3", "rulekitRule": "cached-params"}).params == first.params
    )
    from rulekit import ParamsError

    for _ in range(2):  # a failure is never remembered as a result
        with pytest.raises(ParamsError, match="maxCount"):
            cached.configure({"maxCount": "many"})
    unhashable = {"maxCount": "5", "other": ["x"]}  # from a test or a fixture: parsed anyway
    assert cached.configure(unhashable).params.max_count == 5


def test_a_bad_scope_override_in_the_rule_parameters_names_the_rule_and_where_it_came_from():
    from rulekit import ScopeError

    @rule(resource_type="ACS::ECS::Instance", name="logic-override")
    def logic(resource):
        return Compliance.COMPLIANT

    # Before: "TagKeyLogicScope must be AND or OR, got 'XOR'", with no rule and no source named.
    with pytest.raises(
        ScopeError, match=r"rule 'logic-override': rule parameters: TagKeyLogicScope must be"
    ):
        logic.configure({"TagKeyLogicScope": "XOR"})
