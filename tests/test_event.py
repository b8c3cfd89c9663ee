"""Event decoding: both trigger types, every documented variation, and malformed input."""

from __future__ import annotations

import json

import pytest
from conftest import load_event

from rulekit import EventError
from rulekit._event import decode_event
from rulekit.testing import change_event, scheduled_event


def test_documented_change_event_decodes_to_a_resource():
    event = decode_event(json.dumps(load_event("change-ecs-instance.json")).encode())
    r = event.resource
    assert event.message_type == "ConfigurationItemChangeNotification"
    assert event.ordering_timestamp == 1700000000123
    assert event.rule_parameters == {"imageIds": "m-bp1approved01,m-bp1approved02"}
    assert (r.id, r.type, r.region, r.account_id, r.name, r.status) == (
        "i-bp1example0001",
        "ACS::ECS::Instance",
        "cn-hangzhou",
        "1000000000001234",
        "web-1",
        "Running",
    )
    assert r.tags == {"env": ["prod"], "team": ["payments"]}
    assert r["$.VpcAttributes.VpcId"] == "vpc-bp1example"
    assert r.creation_time == 1600000000000


def test_scheduled_event_with_an_item_and_resource_create_time_spelling():
    raw = load_event("faq-scheduled-ram-user.json")
    raw["invokingEvent"]["configurationItem"]["configuration"] = '{"UserName": "test123"}'
    event = decode_event(raw)
    assert event.periodic
    assert event.resource.creation_time == 1571644675000
    assert event.resource.tags == {}
    assert event.resource["$.UserName"] == "test123"


def test_scheduled_event_without_item_has_no_resource():
    event = decode_event(scheduled_event())
    assert event.periodic and event.resource is None


def test_documented_sample_with_malformed_configuration_is_an_event_error():
    with pytest.raises(
        EventError,
        match="configuration of ACS::RAM::User 200828888731170000 is not valid JSON: "
        "Expecting ',' delimiter: line 1 column 83$",
    ):
        decode_event(load_event("faq-scheduled-ram-user.json"))


def test_unknown_keys_are_ignored_and_rule_name_is_read():
    raw = change_event("ACS::ECS::Instance", "i-1", {})
    raw.update(configRuleName="my-rule", configRuleId="cr-1", evaluationType="x", future={})
    raw["invokingEvent"]["somethingNew"] = 1
    raw["invokingEvent"]["configurationItem"]["relationship"] = "[]"
    event = decode_event(raw)
    assert event.rule_name == "my-rule" and event.rule_id == "cr-1"


def test_oversize_event_leaves_the_configuration_to_fetch():
    event = decode_event(change_event("ACS::ECS::Instance", "i-1", configuration_type="OVERSIZE"))
    assert event.oversize and event.resource.configuration == {}


def test_invoking_event_and_configuration_item_may_be_json_strings():
    raw = change_event("ACS::ECS::Instance", "i-1", {"A": 1})
    raw["invokingEvent"] = json.dumps(raw["invokingEvent"])
    assert decode_event(raw).resource["$.A"] == 1


def test_configuration_may_be_an_object_and_tags_a_mapping():
    raw = change_event("ACS::ECS::Instance", "i-1")
    item = raw["invokingEvent"]["configurationItem"]
    item["configuration"], item["tags"] = {"A": 1}, {"env": ["prod"]}
    resource = decode_event(raw).resource
    assert resource["$.A"] == 1 and resource.tags == {"env": ["prod"]}


def test_ordering_timestamp_falls_back_to_the_notification_time():
    raw = change_event("ACS::ECS::Instance", "i-1")
    del raw["orderingTimestamp"]
    assert decode_event(raw).ordering_timestamp == 1700000000113


@pytest.mark.parametrize("ordering", [2**63, -(2**63) - 1, "9223372036854775808"])
def test_an_ordering_timestamp_beyond_a_java_long_is_refused_as_number_or_text(ordering):
    # One decoding path: a JSON number takes the same range check as a numeric string (before,
    # an int skipped it and Cloud Config would have been sent a value it cannot store).
    raw = change_event("ACS::ECS::Instance", "i-1")
    raw["orderingTimestamp"] = ordering
    with pytest.raises(EventError, match="orderingTimestamp is out of range for a timestamp"):
        decode_event(json.dumps(raw).encode())


def test_account_id_comes_from_the_invoking_event_when_the_item_lacks_it():
    raw = change_event("ACS::ECS::Instance", "i-1")
    del raw["invokingEvent"]["configurationItem"]["accountId"]
    assert decode_event(raw).resource.account_id == "1000000000001234"


def _broken(mutate):
    raw = change_event("ACS::ECS::Instance", "i-1", {"A": 1})
    mutate(raw)
    return raw


@pytest.mark.parametrize(
    "event, message",
    [
        (b"\xff\xfe", "not UTF-8"),
        ("", "not valid JSON"),
        ("[1]", "event must be a JSON object"),
        (_broken(lambda e: e.pop("resultToken")), "no resultToken"),
        (_broken(lambda e: e.update(resultToken="  ")), "no resultToken"),
        (_broken(lambda e: e.pop("invokingEvent")), "no invokingEvent"),
        (_broken(lambda e: e.update(invokingEvent="{oops")), "invokingEvent is not valid JSON"),
        (
            _broken(lambda e: e["invokingEvent"].update(messageType="Whatever")),
            "unknown invokingEvent.messageType 'Whatever'",
        ),
        (
            _broken(lambda e: e["invokingEvent"].update(configurationType="HUGE")),
            "configurationType 'HUGE'",
        ),
        (
            _broken(lambda e: e["invokingEvent"].pop("configurationItem")),
            "must carry a configurationItem",
        ),
        (
            _broken(lambda e: e["invokingEvent"]["configurationItem"].pop("resourceId")),
            "no resourceId",
        ),
        (_broken(lambda e: e["invokingEvent"]["configurationItem"].pop("regionId")), "no regionId"),
        (
            _broken(lambda e: e["invokingEvent"]["configurationItem"].update(configuration="[1]")),
            "must be a JSON object",
        ),
        (_broken(lambda e: e.update(orderingTimestamp="soon")), "orderingTimestamp"),
        (_broken(lambda e: e.update(ruleParameters="[1]")), "ruleParameters must be a JSON object"),
    ],
)
def test_malformed_input_raises_event_error_saying_what_is_wrong(event, message):
    with pytest.raises(EventError, match=message):
        decode_event(event)


def test_tags_are_parsed_on_first_read_and_unreadable_ones_name_the_resource():
    def with_tags(tags):
        return decode_event(
            _broken(lambda e: e["invokingEvent"]["configurationItem"].update(tags=tags))
        )

    with pytest.raises(EventError, match=r"the tags of ACS::ECS::Instance i-1: tags are not val"):
        _ = with_tags("{bad").resource.tags
    with pytest.raises(EventError, match=r"the tags of ACS::ECS::Instance i-1: tag 'env' has"):
        _ = with_tags('{"env": {"nested": 1}}').resource.tags
    resource = with_tags('{"env": ["prod"]}').resource
    assert resource.tags == {"env": ["prod"]}
    resource.tags = {"team": ["a"]}
    assert resource.tags == {"team": ["a"]}
    assert resource.copy().tags == {"team": ["a"]}


def test_a_malformed_configuration_diff_is_logged_not_fatal(caplog):
    raw = change_event("ACS::ECS::Instance", "i-1", {"A": 1})
    raw["invokingEvent"]["configurationItem"]["configurationDiff"] = "{bad"
    event = decode_event(raw)
    assert "configurationDiff" not in caplog.text  # parsed on first read, like tags
    assert event.resource.configuration_diff == {}
    assert "ignoring configurationDiff of ACS::ECS::Instance i-1" in caplog.text


def test_configuration_diff_is_parsed_on_first_read_and_survives_a_copy():
    raw = change_event("ACS::ECS::Instance", "i-1", {"A": 2})
    raw["invokingEvent"]["configurationItem"]["configurationDiff"] = '{"A": [1, 2]}'
    resource = decode_event(raw).resource
    assert resource.copy().configuration_diff == {"A": [1, 2]}
    assert resource.configuration_diff == {"A": [1, 2]}
    assert resource.copy(configuration_diff={}).configuration_diff == {}
