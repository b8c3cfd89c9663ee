"""Every evaluation is delivered exactly once or named in the error the handler raises, also
when the input holds text UTF-8 cannot carry, a folder lookup fails, the time runs out with
work queued, or the listing and a batch fail together (docs/reliability.md)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from rulekit import ApiError, DeliveryError
from rulekit._api import ApiClient
from rulekit._config_api import ConfigApi
from rulekit._deadline import Deadline
from rulekit._delivery import ConfigSink
from rulekit._dispatcher import Dispatcher
from rulekit._event import decode_event
from rulekit._plugins import Plugins
from rulekit._settings import SweepOptions
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, Drop, FCContext, Pass, Throttle, scheduled_event

SWEEPS = "sample_rules.sweeps"
HOSTILE = "sample_rules.hostile"
TYPE = "ACS::ECS::Instance"
LONE = "\ud83d"  # a lone surrogate: valid JSON ("\ud83d"), not encodable as UTF-8


def _env(emulator, **extra: str) -> dict[str, str]:
    return emulator.environ(
        RULEKIT_RULES=SWEEPS,
        RULEKIT_RETRY_BASE_DELAY="0.001",
        RULEKIT_RETRY_MAX_DELAY="0.002",
        RULEKIT_MAX_ATTEMPTS="3",
        **extra,
    )


def _delivered(emulator) -> Counter[str]:
    return Counter(ev["complianceResourceId"] for ev in emulator.evaluations)


def test_lone_surrogates_in_names_values_and_annotations_are_delivered_and_bad_ids_named(
    emulator, fc_context
):
    # Before: UnicodeEncodeError inside PutEvaluations; the batch was neither delivered nor
    # named, and the sweep stopped.
    for n in range(300):
        odd = n % 10 == 0
        emulator.store.add(
            TYPE,
            f"i-{n:05d}",
            name=f"web{LONE}" if odd else f"web-{n}",
            configuration={"ImageId": f"m-{LONE}" if odd else "m-bad", "Note": LONE},
            tags={f"k{LONE}": [LONE]} if odd else {},
        )
    bad_ids = {f"i-bad{LONE}-{n}" for n in range(3)}
    for rid in bad_ids:
        emulator.store.add(TYPE, rid, configuration={"ImageId": "m-ok"})
    with pytest.raises(DeliveryError) as caught:
        run(scheduled_event(), fc_context, environ=_env(emulator))
    error = caught.value
    delivered = _delivered(emulator)
    assert set(delivered) == {f"i-{n:05d}" for n in range(300)}
    assert all(count == 1 for count in delivered.values())
    assert {rid for _, rid in error.undelivered} == bad_ids
    assert "3 evaluation(s) not delivered" in str(error) and "lone surrogate" in str(error)
    odd = [ev for ev in emulator.evaluations if ev["complianceResourceId"] == "i-00010"]
    assert (
        odd[0]["annotation"] == "image m-\ufffd" and odd[0]["complianceResourceName"] == "web\ufffd"
    )
    str(error).encode("utf-8")  # the message itself can be printed


def test_a_failed_folder_lookup_is_contained_per_account_in_an_aggregator_sweep(
    emulator, fc_context
):
    # Before: ApiError(GetAccount) aborted the collection loop; finished evaluations were lost.
    emulator.aggregator_id = "ca-1234"
    emulator.add_account("2000000000000001", "fd-prod", ["r-root"])  # still in the directory
    for n in range(40):
        account = "2000000000000001" if n % 2 else "2000000000000002"  # ...002 has left it
        emulator.store.add(
            TYPE, f"i-{n:05d}", account_id=account, configuration={"ImageId": "m-ok"}
        )
    event = scheduled_event(rule_parameters={"FolderIdsScope": "fd-prod"})
    summary = run(event, fc_context, environ=_env(emulator, RULEKIT_AGGREGATOR_ID="ca-1234"))
    by_id = {ev["complianceResourceId"]: ev for ev in emulator.evaluations}
    assert len(emulator.evaluations) == len(by_id) == 40
    for n in range(40):
        ev = by_id[f"i-{n:05d}"]
        expected = "COMPLIANT" if n % 2 else "INSUFFICIENT_DATA"
        assert ev["complianceType"] == expected
    assert summary["errors"] == 20 and summary["complete"]
    assert any("GetAccount" in line and "i-00000" in line for line in summary["failures"])
    looked_up = [c.params["AccountId"] for c in emulator.calls_of("GetAccount")]
    # one lookup per account and sweep, however many workers ask at once
    assert sorted(looked_up) == ["2000000000000001", "2000000000000002"]


def _paced_sweep(emulator, concurrency: int, reserve: float):
    from sample_rules import hostile

    hostile.CLOCK.now, hostile.STARTS[:] = 0.0, []
    client = ApiClient(TEST_CREDENTIALS)
    config = ConfigApi(client, endpoint=emulator.url)
    dispatcher = Dispatcher(
        Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, [HOSTILE]).rules,
        config=config,
        deadline=Deadline(60, clock=hostile.CLOCK),
        requested_rule="paced",
        sweep=SweepOptions(concurrency=concurrency, reserve=reserve),
    )
    event = decode_event(scheduled_event())
    return dispatcher.dispatch(event, sink=ConfigSink(config, event.result_token))


def test_the_deadline_bounds_the_work_not_only_its_submission(emulator):
    # Before: up to 4 x concurrency queued resources still ran after the time was up.
    from sample_rules import hostile

    for n in range(120):
        emulator.store.add(TYPE, f"i-{n:05d}", configuration={})
    result = _paced_sweep(emulator, concurrency=1, reserve=10)
    assert hostile.STARTS and min(hostile.STARTS) > 10  # nothing started within the reserve
    assert len(hostile.STARTS) == result.resources == 50
    assert not result.complete and result.remaining == 70
    assert result.delivered == 50 and len(emulator.evaluations) == 50


def test_a_rule_still_running_at_the_deadline_is_left_behind_and_reported(emulator):
    from sample_rules import hostile

    emulator.store.add(TYPE, "i-hangs", configuration={})
    for n in range(5):
        emulator.store.add(TYPE, f"i-{n:05d}", configuration={})
    env = emulator.environ(RULEKIT_RULES=HOSTILE, RULEKIT_RULE="hangs", RULEKIT_SWEEP_RESERVE="1")
    hostile.HANG.clear()
    try:
        # FC timeout 4 s: the deadline keeps 1 s of margin, the sweep 1 s of reserve.
        summary = run(scheduled_event(), FCContext(TEST_CREDENTIALS, timeout=4), environ=env)
    finally:
        hostile.HANG.set()
    assert not summary["complete"] and summary["remaining"] >= 1
    delivered = _delivered(emulator)
    assert "i-hangs" not in delivered and all(count == 1 for count in delivered.values())
    assert summary["delivered"] == len(delivered) == summary["resources"]


def _listing_fails_after_the_first_page(emulator) -> None:
    emulator.script("ListDiscoveredResources", Pass(), *[Drop()] * 3)


def test_a_failed_listing_and_a_failed_batch_are_stated_together(emulator, fc_context):
    # Before: only "DeliveryError: 100 not delivered"; nothing said 150 were never evaluated.
    for n in range(250):
        emulator.store.add(TYPE, f"i-{n:05d}", configuration={"ImageId": "m-ok"})
    _listing_fails_after_the_first_page(emulator)
    emulator.script("PutEvaluations", *[Throttle()] * 3)
    with pytest.raises(DeliveryError) as caught:
        run(scheduled_event(), fc_context, environ=_env(emulator))
    message = str(caught.value)
    assert "100 evaluation(s) not delivered" in message
    assert "150 of 250 resource(s) not evaluated" in message
    assert "ListDiscoveredResources" in message
    assert caught.value.not_evaluated == 150 and len(caught.value.undelivered) == 100


def test_a_failed_listing_alone_says_how_many_were_not_evaluated(emulator, fc_context):
    for n in range(250):
        emulator.store.add(TYPE, f"i-{n:05d}", configuration={"ImageId": "m-ok"})
    _listing_fails_after_the_first_page(emulator)
    with pytest.raises(ApiError, match="150 of 250 resource") as caught:
        run(scheduled_event(), fc_context, environ=_env(emulator))
    assert caught.value.action == "ListDiscoveredResources"
    assert len(_delivered(emulator)) == 100


def test_the_puts_carry_valid_utf8_json(emulator, fc_context):
    emulator.store.add(TYPE, "i-1", configuration={"ImageId": f"m-{LONE}"})
    run(scheduled_event(), fc_context, environ=_env(emulator))
    [call] = emulator.put_calls
    [wire] = json.loads(call.params["Evaluations"])
    assert wire["annotation"].encode("utf-8")
