"""Chained sweeps (RULEKIT_CONTINUE): a sweep past its invocation's deadline hands the rest to a
new asynchronous invocation of its own function, through the emulator's FC InvokeFunction.

Scaled down from the issue's 100,000 resources and 60 s per link: 2,050 resources, each link
60 s long on a fake clock that advances 0.05 s at every read (about 360 resources a link, so
about six links), real HTTP to the emulator throughout."""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from typing import Any

import pytest

from rulekit import ApiError, DeliveryError, EventError
from rulekit._api import ApiClient
from rulekit._config_api import ConfigApi
from rulekit._continuation import Chain, Invoker, read_continuation
from rulekit._deadline import Deadline
from rulekit._delivery import ConfigSink
from rulekit._dispatcher import Dispatcher
from rulekit._errors import ConfigurationError
from rulekit._event import decode_event
from rulekit._fc_api import FunctionApi
from rulekit._plugins import Plugins
from rulekit._settings import SettingError, Settings, SweepOptions
from rulekit.handler import run
from rulekit.testing import (
    TEST_CREDENTIALS,
    TEST_RESULT_TOKEN,
    ApiFailure,
    Delay,
    FCContext,
    scheduled_event,
)

SWEEPS = "sample_rules.sweeps"
TYPE = "ACS::ECS::Instance"
CHAINED = SweepOptions(concurrency=4, delete_mode=True, continue_sweep=True, max_links=50)


def _fill(emulator, count: int) -> None:
    for n in range(count):
        emulator.store.add(TYPE, f"i-{n:05d}", configuration={"ImageId": "m-ok"})


def _link(emulator, payload: Any, options: SweepOptions = CHAINED, step: float = 0.05) -> Any:
    """One invocation of the function, as FC would run it, with a 60 s deadline on a clock
    that advances ``step`` seconds at every read."""
    ticks = [0.0]

    def clock() -> float:
        ticks[0] += step
        return ticks[0]

    config = ConfigApi(ApiClient(TEST_CREDENTIALS), endpoint=emulator.url)
    event = decode_event(payload)
    invoker = Invoker(FunctionApi(TEST_CREDENTIALS, emulator.url), "rulekit", None)
    chain = Chain(event, read_continuation(event), options, invoker)
    dispatcher = Dispatcher(
        Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, [SWEEPS]).rules,
        config=config,
        deadline=Deadline(60, clock=clock),
        sweep=options,
        chain=chain,
    )
    return dispatcher.dispatch(event, sink=ConfigSink(config, event.result_token)).to_dict()


def _chain(emulator, options: SweepOptions = CHAINED) -> list[dict[str, Any]]:
    first = _link(emulator, json.dumps(scheduled_event()).encode(), options)
    return [first, *emulator.fc.drain(lambda payload: _link(emulator, payload, options))]


def _delivered(emulator) -> Counter[str]:
    return Counter(ev["complianceResourceId"] for ev in emulator.evaluations)


def test_a_chained_sweep_evaluates_every_resource_once_in_ceil_n_over_100_calls(emulator, caplog):
    _fill(emulator, 2050)
    with caplog.at_level(logging.INFO, "rulekit"):
        summaries = _chain(emulator)
    # Stopping for time is the plan in a link that hands over: said at INFO, not warned.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    stops = [r for r in caplog.records if "sweep stopped (out of time)" in r.getMessage()]
    assert len(stops) == len(summaries) - 1
    assert len(summaries) >= 3  # it did not fit one link
    assert [s["chain"]["link"] for s in summaries] == list(range(1, len(summaries) + 1))
    assert {s["chain"]["chainId"] for s in summaries} == {summaries[0]["chain"]["chainId"]}
    assert all(s["chain"]["next"] == s["chain"]["link"] + 1 for s in summaries[:-1])
    last = summaries[-1]
    assert last["complete"] and "next" not in last["chain"] and last["chain"]["resources"] == 2050
    assert all(s["remaining"] == 2050 - s["chain"]["resources"] for s in summaries[:-1])
    assert _delivered(emulator) == Counter({f"i-{n:05d}": 1 for n in range(2050)})
    puts = emulator.put_calls
    assert len(puts) == math.ceil(2050 / 100)
    sizes = [len(json.loads(c.params["Evaluations"])) for c in puts]
    assert sizes == [100] * 20 + [50]
    # One token and one ordering timestamp for the whole chain; DeleteMode after the last link.
    assert {c.params["ResultToken"] for c in puts} == {TEST_RESULT_TOKEN}
    assert len({ev["orderingTimestamp"] for ev in emulator.evaluations}) == 1
    assert [c.params.get("DeleteMode") for c in puts] == [None] * 20 + ["true"]
    assert [i.task_id for i in emulator.fc.accepted] == [
        f"rulekit-{last['chain']['chainId']}-{n}" for n in range(2, len(summaries) + 1)
    ]


def test_a_link_run_twice_repeats_only_its_own_slice_identically_and_does_not_fork(emulator):
    _fill(emulator, 1000)
    _link(emulator, json.dumps(scheduled_event()).encode())
    second = emulator.fc.pending.popleft()  # FC delivers link 2 twice (at least once)
    handed = json.loads(second.payload)["rulekitContinuation"]
    start = handed["position"]["index"]
    carried = {ev["complianceResourceId"] for ev in handed["evaluations"]}
    _link(emulator, second.payload)
    before_rerun = len(emulator.evaluations)
    _link(emulator, second.payload)
    rerun = {ev["complianceResourceId"] for ev in emulator.evaluations[before_rerun:]}
    statuses = [i.status for i in emulator.fc.invocations]
    assert statuses == [202, 202, 409]  # the repeated hand-over is refused: no second chain
    emulator.fc.drain(lambda payload: _link(emulator, payload))
    delivered = _delivered(emulator)
    assert set(delivered) == {f"i-{n:05d}" for n in range(1000)}  # nothing skipped
    twice = {rid for rid, n in delivered.items() if n > 1}
    # Only what the re-run link sent again: what it was handed and its own slice of the listing.
    assert twice and twice <= rerun and min(rerun - carried) >= f"i-{start:05d}"
    assert all(n <= 2 for n in delivered.values())
    # ... with the same content: what Cloud Config keeps is what a single run gives.
    for ev in emulator.evaluations:
        assert (ev["complianceType"], ev["orderingTimestamp"]) == (
            "COMPLIANT",
            emulator.evaluations[0]["orderingTimestamp"],
        )


def test_no_delete_mode_after_the_last_link_when_an_earlier_link_had_an_error(emulator):
    emulator.store.add(TYPE, "i-boom", configuration={"ImageId": "m-ok"})
    _fill(emulator, 600)
    summaries = _chain(emulator)
    assert len(summaries) >= 2 and summaries[-1]["complete"]
    assert summaries[-1]["chain"]["errors"] == 1 and summaries[0]["errors"] == 1
    assert all("DeleteMode" not in c.params for c in emulator.put_calls)


def test_the_chain_length_is_bounded_and_the_last_link_reports_the_rest(emulator, caplog):
    _fill(emulator, 1000)
    bounded = CHAINED._replace(max_links=2)
    with caplog.at_level(logging.WARNING):
        summaries = _chain(emulator, bounded)
    assert len(summaries) == 2 and len(emulator.fc.invocations) == 1
    assert not summaries[-1]["complete"] and summaries[-1]["remaining"] > 0
    assert any("RULEKIT_CONTINUE_MAX_LINKS" in r.getMessage() for r in caplog.records)
    assert any(  # the last link's sweep warns as an unchained one does
        r.levelno == logging.WARNING and "sweep stopped" in r.getMessage() for r in caplog.records
    )
    assert all("DeleteMode" not in c.params for c in emulator.put_calls)


def test_a_link_that_evaluated_nothing_does_not_hand_over(emulator, caplog):
    _fill(emulator, 50)
    with caplog.at_level(logging.ERROR, "rulekit.chain"):
        summary = _link(
            emulator, json.dumps(scheduled_event()).encode(), CHAINED._replace(reserve=100)
        )
    assert summary["resources"] == 0 and summary["remaining"] == 50
    assert emulator.fc.invocations == []
    assert any("evaluated nothing" in r.getMessage() for r in caplog.records)


def test_a_refused_next_token_lists_again_and_skips_by_index(emulator, caplog):
    _fill(emulator, 800)
    first = _link(emulator, json.dumps(scheduled_event()).encode())
    assert first["chain"]["next"] == 2
    emulator.script(
        "ListDiscoveredResources", ApiFailure(400, "InvalidParameter.NextToken", "expired")
    )
    with caplog.at_level(logging.WARNING, "rulekit.sweep"):
        emulator.fc.drain(lambda payload: _link(emulator, payload))
    assert any("NextToken was refused" in r.getMessage() for r in caplog.records)
    assert _delivered(emulator) == Counter({f"i-{n:05d}": 1 for n in range(800)})


@pytest.mark.parametrize("answer", ["Result=false", "InvalidParameter.ResultToken"])
def test_a_rejected_token_in_a_later_link_fails_loudly_naming_what_was_evaluated(
    emulator, caplog, answer
):
    # How Cloud Config rejects an expired token is not documented: either answer is caught.
    _fill(emulator, 800)
    _link(emulator, json.dumps(scheduled_event()).encode())
    delivered_before = len(emulator.evaluations)
    if answer == "Result=false":
        emulator.handle("config", "PutEvaluations", lambda params: {"Result": False})
    else:
        emulator.always("PutEvaluations", ApiFailure(400, answer, "The token is invalid."))
    assert len(emulator.fc.pending) == 1
    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(DeliveryError, match=f"{answer}.*lifetime is not documented") as e,
    ):
        _link(emulator, emulator.fc.pending.popleft().payload)
    assert e.value.undelivered and len(emulator.evaluations) == delivered_before
    lost = {rid for _, rid in e.value.undelivered}
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert all(rid in logged for rid in lost)  # every id is in the log, not only a sample
    assert len(emulator.fc.invocations) == 1  # the failed link hands nothing over
    assert TEST_RESULT_TOKEN not in str(e.value) + logged


def test_when_the_hand_over_fails_the_carried_evaluations_are_delivered_then_it_raises(emulator):
    _fill(emulator, 1000)
    emulator.fc.functions = set()  # InvokeFunction answers FunctionNotFound
    with pytest.raises(ApiError, match="FunctionNotFound"):
        _link(emulator, json.dumps(scheduled_event()).encode())
    evaluated = _delivered(emulator)
    assert evaluated and all(n == 1 for n in evaluated.values())
    assert len(evaluated) < 1000  # what the link evaluated, all of it, and no more


def test_a_continuation_too_large_for_fc_sends_its_partial_batch_in_the_link(emulator, monkeypatch):
    from rulekit import _continuation

    monkeypatch.setattr(_continuation, "MAX_ASYNC_PAYLOAD", 4096)
    _fill(emulator, 600)
    summaries = _chain(emulator)
    assert len(summaries) >= 2
    assert _delivered(emulator) == Counter({f"i-{n:05d}": 1 for n in range(600)})
    assert all(len(i.payload) <= 4096 for i in emulator.fc.accepted)
    assert len(emulator.put_calls) > math.ceil(600 / 100)  # one partial batch per hand-over


class TestThroughTheHandler:
    def test_the_handler_chains_with_its_own_function_and_fc_endpoint(self, emulator):
        _fill(emulator, 60)
        emulator.always("GetDiscoveredResource", Delay(0.03))
        # (2 at once: 60 resources of 30 ms take 0.9 s, three times the 0.3 s a link can work)
        env = emulator.environ(
            RULEKIT_RULES=SWEEPS,
            RULEKIT_CONTINUE="1",
            RULEKIT_SWEEP_RESERVE="1.2",
            RULEKIT_SWEEP_CONCURRENCY="2",
        )
        context = FCContext(TEST_CREDENTIALS, timeout=2)
        first = run(scheduled_event(), context, environ=env)
        rest = emulator.fc.drain(lambda payload: run(payload, context, environ=env))
        assert rest and rest[-1]["complete"] and first["chain"]["next"] == 2
        assert _delivered(emulator) == Counter({f"i-{n:05d}": 1 for n in range(60)})
        assert {i.function for i in emulator.fc.invocations} == {"rulekit"}
        # The continuation carries the token (it must report with it), never logged.
        assert all(TEST_RESULT_TOKEN.encode() in i.payload for i in emulator.fc.accepted)

    def test_chaining_is_off_by_default(self, emulator):
        _fill(emulator, 60)
        emulator.always("GetDiscoveredResource", Delay(0.03))
        env = emulator.environ(
            RULEKIT_RULES=SWEEPS, RULEKIT_SWEEP_RESERVE="1.2", RULEKIT_SWEEP_CONCURRENCY="2"
        )
        summary = run(scheduled_event(), FCContext(TEST_CREDENTIALS, timeout=2), environ=env)
        assert not summary["complete"] and summary["remaining"] > 0 and "chain" not in summary
        assert emulator.fc.invocations == []

    def test_without_its_own_name_the_function_cannot_chain(self, emulator):
        _fill(emulator, 3)
        context = FCContext(TEST_CREDENTIALS)
        context.function.name = None
        env = emulator.environ(RULEKIT_RULES=SWEEPS, RULEKIT_CONTINUE="1")
        with pytest.raises(ConfigurationError, match="FC_FUNCTION_NAME"):
            run(scheduled_event(), context, environ=env)
        assert emulator.put_calls == []


def _continuation(**changes: Any) -> dict[str, Any]:
    event = scheduled_event()
    event["rulekitContinuation"] = {
        "version": 1,
        "chainId": "c0ffee",
        "link": 2,
        "position": {
            "listing": "retained",
            "index": 5,
            "token": None,
            "pageStart": 0,
            "anchor": "i-00004",
            "done": [],
        },
        "evaluations": [],
        "resources": 5,
        "errors": 0,
        "deletedWindow": None,
        **changes,
    }
    return event


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 2}, "version 2 is not 1"),
        ({"link": 1}, "link must be a whole number >= 2"),
        ({"link": True}, "link must be a whole number"),
        ({"chainId": "a b"}, "chainId must be"),
        ({"position": {"listing": "all"}}, "position.listing"),
        ({"evaluations": [{"complianceResourceId": 1}]}, r"evaluations\[0\]"),
        ({"evaluations": "[]"}, "evaluations must be a list"),
        ({"deletedWindow": [1]}, "deletedWindow"),
    ],
)
def test_a_malformed_continuation_is_an_event_error_and_sends_nothing(
    emulator, fc_context, changes, message
):
    env = emulator.environ(RULEKIT_RULES=SWEEPS, RULEKIT_CONTINUE="1")
    with pytest.raises(EventError, match=message):
        run(_continuation(**changes), fc_context, environ=env)
    assert emulator.calls == []


def test_a_continuation_of_a_change_event_is_refused(emulator, fc_context):
    event = _continuation()
    event["invokingEvent"] = scheduled_event(TYPE, "i-1", {"ImageId": "m-ok"})["invokingEvent"]
    with pytest.raises(EventError, match="only a periodic sweep"):
        run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=SWEEPS))
    assert emulator.calls == []


def test_a_continuation_resumes_at_its_position(emulator, fc_context):
    _fill(emulator, 8)
    event = _continuation(
        position={**_continuation()["rulekitContinuation"]["position"], "done": ["i-00006"]}
    )
    summary = run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=SWEEPS))
    assert sorted(_delivered(emulator)) == ["i-00005", "i-00007"]
    assert summary["chain"] == {"chainId": "c0ffee", "link": 2, "resources": 7, "errors": 0}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RULEKIT_CONTINUE": "maybe"}, "RULEKIT_CONTINUE must be true or false"),
        ({"RULEKIT_CONTINUE_MAX_LINKS": "1"}, "RULEKIT_CONTINUE_MAX_LINKS must be at least 2"),
    ],
)
def test_chain_settings_are_checked(env, message):
    with pytest.raises(SettingError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize("chained", [False, True])
def test_a_chained_sweep_lists_per_resource_not_by_advanced_search(
    emulator, tmp_path, monkeypatch, chained
):
    # A link's position is a ListDiscoveredResources one (NextToken and index): a sweep that may
    # hand over reads per resource; one that cannot uses the search (docs/sweeps.md).
    (tmp_path / "searched_rules.py").write_text(
        "from rulekit.conditions import condition_rule, path\n"
        "vpc = condition_rule('in-vpc', 'ACS::ECS::Instance',\n"
        "    path('$.InstanceNetworkType').string_equals('vpc'), frequency='One_Hour')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for n in range(5):
        emulator.store.add(TYPE, f"i-{n}", configuration={"InstanceNetworkType": "vpc"})
    env = emulator.environ(RULEKIT_RULES="searched_rules")
    if chained:
        env["RULEKIT_CONTINUE"] = "true"
    summary = run(scheduled_event(), FCContext(TEST_CREDENTIALS), environ=env)
    assert summary["compliance"] == {"COMPLIANT": 5}
    searched = emulator.calls_of("ListResourcesByAdvancedSearch")
    fetched = emulator.calls_of("GetDiscoveredResource")
    if chained:
        assert not searched and len(fetched) == 5
    else:
        assert searched and not fetched
