"""The FC handler end to end: real SDK, real HTTP, the loopback emulator verifying signatures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import load_event
from sample_rules import contract

from rulekit import (
    Compliance,
    ConfigurationError,
    CredentialsError,
    EventError,
    ParamsError,
    RuleNotFoundError,
    ScopeError,
    rule,
)
from rulekit._api import ApiClient
from rulekit._config_api import ConfigApi
from rulekit._delivery import MemorySink
from rulekit._dispatcher import Dispatcher
from rulekit._event import decode_event
from rulekit.handler import handler, run
from rulekit.testing import TEST_CREDENTIALS, FCContext, change_event

CONTRACT = "sample_rules.contract"


def _event(image: str = "m-1", tags: Any = None, **kwargs: Any) -> dict[str, Any]:
    params = kwargs.pop("rule_parameters", {"imageIds": "m-1,m-2"})
    return change_event(
        "ACS::ECS::Instance",
        "i-001",
        {"ImageId": image},
        tags={"env": ["prod"]} if tags is None else tags,
        rule_parameters=params,
        **kwargs,
    )


def test_compliant_instance_is_reported_through_put_evaluations(emulator, fc_context):
    summary = run(
        json.dumps(_event("m-2")).encode(),
        fc_context,
        environ=emulator.environ(RULEKIT_RULES=CONTRACT),
    )
    assert summary["delivered"] == 1
    [call] = emulator.put_calls
    assert call.product == "config"
    assert call.access_key_id == TEST_CREDENTIALS.access_key_id
    [evaluation] = json.loads(call.params["Evaluations"])
    assert evaluation == {
        "accountId": 1000000000001234,
        "complianceResourceId": "i-001",
        "complianceResourceType": "ACS::ECS::Instance",
        "complianceRegionId": "cn-hangzhou",
        "complianceResourceName": "i-001",
        "complianceType": "COMPLIANT",
        "orderingTimestamp": 1700000000123,
    }


def test_non_compliant_instance_carries_the_rule_annotation(emulator, fc_context):
    run(_event("m-9"), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    [evaluation] = emulator.evaluations
    assert evaluation["complianceType"] == "NON_COMPLIANT"
    assert evaluation["annotation"] == "image m-9 is not approved"


def test_event_may_be_bytes_str_or_dict(emulator, fc_context):
    env = emulator.environ(RULEKIT_RULES=CONTRACT)
    event = _event()
    for form in (json.dumps(event).encode(), json.dumps(event), event):
        run(form, fc_context, environ=env)
    assert [e["complianceType"] for e in emulator.evaluations] == ["COMPLIANT"] * 3


def test_fc_entry_point_reads_rules_and_endpoint_from_the_process_environment(
    emulator, fc_context, monkeypatch
):
    for key, value in emulator.environ(RULEKIT_RULES=CONTRACT).items():
        monkeypatch.setenv(key, value)
    summary = handler(json.dumps(_event()).encode(), fc_context)
    assert summary["compliance"] == {"COMPLIANT": 1}
    assert len(emulator.put_calls) == 1


def test_fc_entry_point_reads_its_settings_on_every_invocation(emulator, fc_context, monkeypatch):
    # The settings are read from the process environment by each invocation (no per-instance
    # copy): a bad value is a typed error naming the variable, never an older value kept.
    for key, value in emulator.environ(RULEKIT_RULES=CONTRACT).items():
        monkeypatch.setenv(key, value)
    assert handler(json.dumps(_event()).encode(), fc_context)["delivered"] == 1
    monkeypatch.setenv("RULEKIT_MAX_ATTEMPTS", "none")
    with pytest.raises(ConfigurationError, match="RULEKIT_MAX_ATTEMPTS"):
        handler(json.dumps(_event()).encode(), fc_context)
    with pytest.raises(ConfigurationError, match="RULEKIT_MAX_ATTEMPTS"):
        run(_event(), fc_context, environ={**emulator.environ(RULEKIT_RULES=CONTRACT),
                                           "RULEKIT_MAX_ATTEMPTS": "none"})  # fmt: skip


def test_invocations_running_at_once_keep_their_own_deadlines(emulator):
    # FC instance concurrency: one warm instance serves invocations that overlap, with one SDK
    # client and its connections; each must give up within its own remaining time, not within
    # that of the invocation that built the client or of the one that started last.
    import threading
    import time

    from rulekit import DeliveryError
    from rulekit.testing import Delay

    env = emulator.environ(RULEKIT_RULES=CONTRACT)
    warm = run(_event(), FCContext(TEST_CREDENTIALS, timeout=60), environ=env)
    assert warm["delivered"] == 1  # the instance is warm: its client exists, with a long deadline
    emulator.script("PutEvaluations", Delay(8, process=False))  # the next answer never comes
    outcome: dict[str, Any] = {}

    def short() -> None:
        started = time.monotonic()
        try:
            run(_event("m-short"), FCContext(TEST_CREDENTIALS, timeout=4), environ=env)
        except DeliveryError as error:
            outcome["short"] = error
        outcome["short_seconds"] = time.monotonic() - started

    thread = threading.Thread(target=short)
    thread.start()
    while not emulator.calls_of("PutEvaluations")[1:]:
        time.sleep(0.01)  # the short invocation's request is in flight, unanswered
    outcome["long"] = run(_event("m-long"), FCContext(TEST_CREDENTIALS, timeout=60), environ=env)
    thread.join()
    assert outcome["long"]["delivered"] == 1
    assert isinstance(outcome["short"], DeliveryError)
    # FC timeout 4 s, less the deadline's margin: given up long before the 8 s answer
    assert outcome["short_seconds"] < 6


def test_python312_runtime_takes_credentials_from_the_environment(emulator):
    context = FCContext(with_credentials=False)  # FC 3.0 / Python 3.12: no context.credentials
    run(_event(), context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    assert emulator.put_calls[0].access_key_id == TEST_CREDENTIALS.access_key_id


def test_context_credentials_win_over_the_environment(emulator, fc_context):
    env = emulator.environ(RULEKIT_RULES=CONTRACT)
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAI-not-the-function-role"
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "wrong-secret-value"
    run(_event(), fc_context, environ=env)
    assert [c.access_key_id for c in emulator.calls] == [TEST_CREDENTIALS.access_key_id]


def test_sdk_env_aliyun_access_key_does_not_replace_the_function_role(
    emulator, fc_context, monkeypatch
):
    # aliyun-python-sdk-core prefers these over an explicit STS credential; rulekit pins it.
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_ID", "LTAI-developer-laptop-key")
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "developer-laptop-secret")
    run(_event(), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    assert [c.access_key_id for c in emulator.calls] == [TEST_CREDENTIALS.access_key_id]
    assert emulator.put_calls


def test_missing_credentials_fail_before_anything_is_sent(emulator):
    env = {"RULEKIT_ENDPOINT": emulator.url, "RULEKIT_RULES": CONTRACT, "RULEKIT_LOAD_PLUGINS": ""}
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_ACCESS_KEY_ID"):
        run(_event(), FCContext(with_credentials=False), environ=env)
    assert emulator.calls == []


def test_out_of_scope_resource_is_not_applicable_and_the_rule_is_not_called(emulator, fc_context):
    contract.CALLS.clear()
    run(_event(tags={"env": ["dev"]}), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    [evaluation] = emulator.evaluations
    assert evaluation["complianceType"] == "NOT_APPLICABLE"
    assert "TagKeyScope" in evaluation["annotation"] or "tag scope" in evaluation["annotation"]
    assert contract.CALLS == []


def test_scope_keys_in_rule_parameters_override_the_declared_scope(emulator, fc_context):
    contract.CALLS.clear()
    params = {"imageIds": "m-1", "TagValueScope": "dev"}
    run(
        _event(tags={"env": ["dev"]}, rule_parameters=params),
        fc_context,
        environ=emulator.environ(RULEKIT_RULES=CONTRACT),
    )
    assert emulator.evaluations[0]["complianceType"] == "COMPLIANT"
    assert contract.CALLS == ["i-001"]


def test_region_scope_from_rule_parameters_excludes_other_regions(emulator, fc_context):
    params = {"imageIds": "m-1", "RegionIdsScope": "cn-shanghai,cn-beijing"}
    run(
        _event(rule_parameters=params), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT)
    )
    [evaluation] = emulator.evaluations
    assert evaluation["complianceType"] == "NOT_APPLICABLE"
    assert "RegionIdsScope" in evaluation["annotation"]


def test_invalid_scope_in_rule_parameters_sends_nothing(emulator, fc_context):
    params = {"imageIds": "m-1", "TagKeyLogicScope": "XOR"}
    with pytest.raises(ScopeError, match="TagKeyLogicScope"):
        run(
            _event(rule_parameters=params),
            fc_context,
            environ=emulator.environ(RULEKIT_RULES=CONTRACT),
        )
    assert emulator.calls == []


def test_missing_parameter_raises_params_error_and_sends_nothing(emulator, fc_context):
    with pytest.raises(ParamsError, match="imageIds"):
        run(
            _event(rule_parameters={}), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT)
        )
    assert emulator.calls == []


@pytest.mark.parametrize(
    "event, message",
    [
        (b"{not json", "not valid JSON"),
        (b'{"invokingEvent": {"messageType": "ScheduledNotification"}}', "resultToken"),
        (b'{"resultToken": "tok-123456"}', "invokingEvent"),
    ],
)
def test_malformed_events_raise_event_error_and_send_nothing(emulator, fc_context, event, message):
    with pytest.raises(EventError, match=message):
        run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    assert emulator.calls == []


def test_unreadable_tags_under_a_tag_scope_raise_event_error_and_send_nothing(emulator, fc_context):
    with pytest.raises(EventError, match="the tags of ACS::ECS::Instance i-001: tags are not"):
        run(_event(tags="{env"), fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    assert emulator.calls == []


@pytest.mark.parametrize("reads_tags", [True, False])
def test_tags_are_only_parsed_when_the_scope_or_the_rule_reads_them(reads_tags):
    @rule(resource_type="ACS::ECS::Instance", name="reads-tags")
    def check(resource):
        return Compliance.COMPLIANT if not reads_tags or resource.tags else Compliance.NON_COMPLIANT

    event = decode_event(_event(tags='{"env": 7.5e}'))
    sink = MemorySink()
    if reads_tags:
        with pytest.raises(EventError, match="the tags of ACS::ECS::Instance i-001"):
            Dispatcher([check]).dispatch(event, sink=sink)
        assert sink.batches == []
    else:  # nothing reads them: the rule's verdict stands
        Dispatcher([check]).dispatch(event, sink=sink)
        assert [e["complianceType"] for e in sink.evaluations] == ["COMPLIANT"]


def test_documented_sample_with_broken_configuration_sends_nothing(emulator, fc_context):
    event = load_event("faq-scheduled-ram-user.json")
    with pytest.raises(EventError, match="configuration of ACS::RAM::User .* not valid JSON"):
        run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    assert emulator.calls == []


def test_oversize_event_fetches_the_configuration_with_get_discovered_resource(
    emulator, fc_context
):
    emulator.store.add(
        "ACS::ECS::Instance",
        "i-001",
        region="cn-hangzhou",
        configuration={"ImageId": "m-2", "Padding": "x" * 200_000},
    )
    event = _event(configuration_type="OVERSIZE")
    assert "configuration" not in event["invokingEvent"]["configurationItem"]
    run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    [fetch] = emulator.calls_of("GetDiscoveredResource")
    assert fetch.params == {
        "ResourceId": "i-001",
        "ResourceType": "ACS::ECS::Instance",
        "Region": "cn-hangzhou",
    }
    assert emulator.evaluations[0]["complianceType"] == "COMPLIANT"


def test_an_account_groups_oversize_event_is_fetched_through_the_aggregator(emulator, fc_context):
    member = "2000000000005678"
    emulator.aggregator_id = "ca-1234"
    emulator.store.add(
        "ACS::ECS::Instance", "i-001", account_id=member, configuration={"ImageId": "m-2"}
    )
    event = _event(configuration_type="OVERSIZE", account_id=member)
    env = emulator.environ(RULEKIT_RULES=CONTRACT, RULEKIT_AGGREGATOR_ID="ca-1234")
    run(event, fc_context, environ=env)
    assert emulator.calls_of("GetDiscoveredResource") == []  # not the function's own account
    [fetch] = emulator.calls_of("GetAggregateDiscoveredResource")
    assert fetch.params["AggregatorId"] == "ca-1234"
    assert fetch.params["ResourceAccountId"] == member
    assert emulator.evaluations[0]["complianceType"] == "COMPLIANT"


def test_a_rule_taking_ctx_gets_the_invocation_and_the_fetched_resource(emulator, fc_context):
    seen = []

    @rule(resource_type="ACS::ECS::Instance", name="reads-ctx")
    def reads_ctx(resource, ctx):
        seen.append((ctx.resource is resource, ctx.ordering_timestamp, ctx.request_id))
        return Compliance.COMPLIANT

    emulator.store.add(
        "ACS::ECS::Instance", "i-001", region="cn-hangzhou", configuration={"ImageId": "m-2"}
    )
    for configuration_type in ("COMMON", "OVERSIZE"):
        event = _event(configuration_type=configuration_type)
        config = ConfigApi(ApiClient(TEST_CREDENTIALS), endpoint=emulator.url)
        Dispatcher([reads_ctx], config=config).dispatch(
            decode_event(event), sink=MemorySink(), fc_context=fc_context
        )
    assert seen == [(True, 1700000000123, fc_context.request_id)] * 2


def test_periodic_event_with_a_configuration_item_evaluates_it(emulator, fc_context):
    event = load_event("change-ecs-instance.json")
    event["invokingEvent"]["messageType"] = "ScheduledNotification"
    summary = run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
    assert summary["messageType"] == "ScheduledNotification"
    assert emulator.evaluations[0]["complianceResourceId"] == "i-bp1example0001"


class TestRuleSelection:
    def test_env_rulekit_rule_picks_one_of_several(self, emulator, fc_context):
        env = emulator.environ(
            RULEKIT_RULES=f"{CONTRACT},sample_rules.many", RULEKIT_RULE="always-compliant"
        )
        assert run(_event("m-9"), fc_context, environ=env)["rule"] == "always-compliant"

    def test_event_rule_name_picks_the_matching_rule(self, emulator, fc_context):
        event = _event("m-9")
        event["configRuleName"] = "ecs-instance-image-check"
        env = emulator.environ(RULEKIT_RULES=f"{CONTRACT},sample_rules.many")
        assert run(event, fc_context, environ=env)["rule"] == "ecs-instance-image-check"

    def test_ambiguous_choice_lists_the_loaded_rules(self, emulator, fc_context):
        env = emulator.environ(RULEKIT_RULES=f"{CONTRACT},sample_rules.many")
        with pytest.raises(RuleNotFoundError) as caught:
            run(_event(), fc_context, environ=env)
        for name in ("always-compliant", "ecs-instance-image-check", "fan-out", "RULEKIT_RULE"):
            assert name in str(caught.value)
        assert emulator.calls == []

    def test_unknown_rulekit_rule_is_an_error(self, emulator, fc_context):
        env = emulator.environ(RULEKIT_RULES=CONTRACT, RULEKIT_RULE="nope")
        with pytest.raises(RuleNotFoundError, match="'nope'.*ecs-instance-image-check"):
            run(_event(), fc_context, environ=env)

    def test_no_rules_configured_says_to_set_rulekit_rules(self, emulator, fc_context):
        with pytest.raises(RuleNotFoundError, match="RULEKIT_RULES"):
            run(_event(), fc_context, environ=emulator.environ())

    @pytest.mark.parametrize(
        "module, message",
        [
            ("sample_rules.broken", "plugin 'sample_rules.broken' .from RULEKIT_RULES. failed"),
            ("sample_rules.empty", "defines no rules"),
        ],
    )
    def test_bad_rule_module_names_the_module(self, emulator, fc_context, module, message):
        with pytest.raises(ConfigurationError, match=message):
            run(_event(), fc_context, environ=emulator.environ(RULEKIT_RULES=module))


def test_sdk_clients_are_reused_whatever_thread_serves_the_invocation(emulator, fc_context):
    # A warm instance keeps its connection to the endpoint (no new TCP/TLS handshake per
    # invocation). A runtime may serve each invocation on a new thread, so reuse must not depend
    # on the thread.
    import threading

    env = emulator.environ(RULEKIT_RULES=CONTRACT)
    for _ in range(3):
        worker = threading.Thread(target=run, args=(_event(), fc_context), kwargs={"environ": env})
        worker.start()
        worker.join()
    assert len(emulator.put_calls) == 3
    assert len({call.connection for call in emulator.put_calls}) == 1
