"""Running at the quota, never over it: the pace per action (on an injected clock), the user's
rate limit, the emulator's quota, and sweeps under a quota over real HTTP with the real SDK."""

from __future__ import annotations

import random
from typing import Any

import pytest

from rulekit import ApiError, ConfigurationError
from rulekit._api import ApiClient, RetryPolicy
from rulekit._config_api import ConfigApi
from rulekit._deadline import Deadline
from rulekit._pacing import FLOOR, GROWTH, Pace, Pacing, is_throttled
from rulekit._settings import Settings
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, ConfigEmulator, Pass, Throttle, scheduled_event

from .test_reliability import check_delivered_once_or_named

SWEEPS = "sample_rules.sweeps"
TYPE = "ACS::ECS::Instance"


class Clock:
    """Monotonic time that moves only when told, or when slept through."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


UNBOUNDED = Deadline(None)


def _succeed(pace: Pace, clock: Clock, count: int, spacing: float) -> None:
    for _ in range(count):
        clock.now += spacing
        pace.succeeded(pace.admit(UNBOUNDED, sleep=clock.sleep))


# -- the pace of one action, on an injected clock --------------------------------------------
def test_an_unthrottled_action_is_not_held_back():
    clock = Clock()
    pace = Pace(clock=clock)
    assert [pace.admit(UNBOUNDED, sleep=clock.sleep) for _ in range(5)] == [0.0] * 5
    assert pace.rate is None


def test_a_user_limit_spaces_requests_from_the_first():
    clock = Clock()
    pace = Pace(limit=10.0, clock=clock)
    admitted = [pace.admit(UNBOUNDED, sleep=clock.sleep) for _ in range(5)]
    assert admitted == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    clock.now = 5.0  # idle: no burst is saved up, the next one goes now and the one after waits
    assert [pace.admit(UNBOUNDED, sleep=clock.sleep) for _ in range(2)] == pytest.approx([5, 5.1])


def test_threads_reserving_at_once_get_consecutive_slots():
    clock = Clock()
    pace = Pace(limit=4.0, clock=clock)
    assert [pace.reserve() for _ in range(4)] == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_a_throttle_sets_the_rate_to_nine_tenths_of_what_succeeded_in_the_last_second():
    clock = Clock()
    pace = Pace(clock=clock)
    _succeed(pace, clock, 100, 0.02)  # 50 a second for two seconds
    pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
    assert pace.rate == pytest.approx(45.0)
    first = pace.admit(UNBOUNDED, sleep=clock.sleep)
    assert pace.admit(UNBOUNDED, sleep=clock.sleep) - first == pytest.approx(1 / 45)


def test_in_the_first_second_the_rate_is_measured_over_the_time_observed():
    clock = Clock()
    pace = Pace(clock=clock)
    _succeed(pace, clock, 6, 0.05)  # 6 answered in the first 0.25 s: 24/s, not 6/s
    pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
    assert pace.rate == pytest.approx(0.9 * 6 / 0.25)


def test_throttles_of_one_overshoot_lower_the_rate_once():
    clock = Clock()
    pace = Pace(clock=clock)
    _succeed(pace, clock, 100, 0.02)
    in_flight = [pace.admit(UNBOUNDED, sleep=clock.sleep) for _ in range(16)]  # sent together
    for ticket in in_flight:
        pace.throttled(ticket)
    assert pace.rate == pytest.approx(45.0)  # not 45 x 0.9^15


def test_a_later_overshoot_lowers_it_again():
    clock = Clock()
    pace = Pace(clock=clock)
    _succeed(pace, clock, 100, 0.02)
    pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
    clock.now += 2.0  # the successes measured before are a second old
    _succeed(pace, clock, 30, 1 / 30)  # the quota now lets 30/s through
    pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
    assert pace.rate == pytest.approx(27.0)


def test_successes_grow_the_rate_back():
    clock = Clock()
    pace = Pace(clock=clock)
    _succeed(pace, clock, 100, 0.02)
    pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
    assert pace.rate == pytest.approx(45.0)
    _succeed(pace, clock, 40, 0.0)
    assert pace.rate == pytest.approx(45.0 + 40 * GROWTH)


def test_too_few_successes_to_measure_leave_it_to_the_calls_backoff():
    clock = Clock()
    pace = Pace(clock=clock)
    _succeed(pace, clock, 2, 0.1)
    pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
    assert pace.rate is None  # a stray throttle on a rarely called action does not pace it


def test_a_paced_action_throttled_without_successes_halves_down_to_the_floor():
    clock = Clock()
    pace = Pace(clock=clock)
    _succeed(pace, clock, 16, 0.1)
    pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
    assert pace.rate == pytest.approx(9.0)
    rates = []
    for _ in range(5):
        clock.now += 2.0  # nothing got through for a while (another client took the quota)
        pace.throttled(pace.admit(UNBOUNDED, sleep=clock.sleep))
        rates.append(pace.rate)
    assert rates == pytest.approx([4.5, 2.25, 1.125, FLOOR, FLOOR])


def test_the_user_limit_caps_a_learned_rate():
    clock = Clock()
    pace = Pace(limit=10.0, clock=clock)
    pace.rate = 45.0
    assert pace.interval() == pytest.approx(0.1)
    pace.rate = 5.0
    assert pace.interval() == pytest.approx(0.2)


def test_a_slot_past_the_deadline_is_an_error_not_a_wait():
    clock = Clock()
    pace = Pace(limit=1.0, clock=clock)
    deadline = Deadline(2.5, clock=clock)
    slept: list[float] = []
    for _ in range(3):
        pace.admit(deadline, sleep=slept.append)
    with pytest.raises(ApiError, match=r"GetDiscoveredResource not sent.*1\.0/s.*3\.0s") as caught:
        pace.admit(deadline, sleep=slept.append, action="GetDiscoveredResource")
    assert caught.value.code == "RateLimited" and not caught.value.retryable
    assert slept == [1.0, 2.0]


def test_paces_are_per_product_and_action_with_the_products_limit():
    pacing = Pacing({"config": 30.0})
    assert pacing.of("Config", "GetDiscoveredResource") is pacing.of(
        "config", "GetDiscoveredResource"
    )
    assert pacing.of("Config", "PutEvaluations") is not pacing.of("Config", "GetDiscoveredResource")
    assert pacing.of("Config", "PutEvaluations").limit == 30.0
    assert pacing.of("Ecs", "DescribeImages").limit is None


@pytest.mark.parametrize(
    ("code", "throttled"),
    [
        ("Throttling", True),
        ("Throttling.User", True),
        ("Throttling.Api", True),
        ("Rejected.Throttling", True),
        ("ServiceUnavailable", False),
        ("NoPermission", False),
    ],
)
def test_throttling_is_told_by_the_code(code, throttled):
    assert is_throttled(code) is throttled


# -- settings --------------------------------------------------------------------------------
def test_a_products_rate_limit_is_read_per_product():
    settings = Settings.from_env({"RULEKIT_CONFIG_RATE_LIMIT": "30", "RULEKIT_ECS_RATE_LIMIT": "5"})
    assert dict(settings.rate_limits) == {"config": 30.0, "ecs": 5.0}
    assert Settings.from_env({}).rate_limits == ()
    assert Settings.from_env({"RULEKIT_RESOURCE_MANAGER_RATE_LIMIT": "2"}).rate_limits == (
        ("resourcemanager", 2.0),
    )


@pytest.mark.parametrize("value", ["fast", "0", "-3", "nan", "inf"])
def test_a_bad_rate_limit_is_named(value):
    with pytest.raises(ConfigurationError, match="RULEKIT_CONFIG_RATE_LIMIT"):
        Settings.from_env({"RULEKIT_CONFIG_RATE_LIMIT": value})


def test_a_rate_limit_for_an_unknown_product_is_named_not_ignored():
    with pytest.raises(ConfigurationError, match="RULEKIT_CONFGI_RATE_LIMIT names no product"):
        Settings.from_env({"RULEKIT_CONFGI_RATE_LIMIT": "30"})


def test_the_concurrency_is_a_cap_of_16_by_default():
    assert Settings.from_env({}).sweep.concurrency == 16


def test_a_bad_concurrency_cap_is_named():
    with pytest.raises(ConfigurationError, match="RULEKIT_SWEEP_CONCURRENCY"):
        Settings.from_env({"RULEKIT_SWEEP_CONCURRENCY": "many"})


# -- the emulator's quota --------------------------------------------------------------------
def _client(emulator: ConfigEmulator, credentials: Any = TEST_CREDENTIALS) -> ConfigApi:
    client = ApiClient(credentials, retry=RetryPolicy(max_attempts=1))
    return ConfigApi(client, endpoint=emulator.url)


def _fetch(api: ConfigApi) -> None:
    api.get_discovered_resource("i-1", TYPE, "cn-hangzhou")


def test_the_emulator_throttles_beyond_its_quota_as_its_throttle_fault_does():
    clock = Clock()
    with ConfigEmulator(quota={"GetDiscoveredResource": 2}, clock=clock) as emulator:
        emulator.store.add(TYPE, "i-1", configuration={"ImageId": "m-1"})
        api = _client(emulator)
        _fetch(api)
        _fetch(api)
        with pytest.raises(ApiError) as caught:
            _fetch(api)
        assert (caught.value.code, caught.value.status) == (Throttle.code, Throttle.status)
        assert Throttle.message in str(caught.value)
        clock.now += 0.5  # one token back
        _fetch(api)
        with pytest.raises(ApiError):
            _fetch(api)
        api.call("ListDiscoveredResources", {"ResourceTypes": TYPE, "MaxResults": 10})
    answered = [c.ok for c in emulator.calls_of("GetDiscoveredResource")]
    assert answered == [True, True, False, True, False]


def test_the_emulators_quota_has_a_burst_and_counts_per_account():
    clock = Clock()
    with ConfigEmulator(clock=clock) as emulator:
        emulator.set_quota("GetDiscoveredResource", 10, burst=1)
        emulator.store.add(TYPE, "i-1", configuration={"ImageId": "m-1"})
        api = _client(emulator)
        _fetch(api)
        with pytest.raises(ApiError):
            _fetch(api)
        _fetch(
            _client(emulator, emulator.issue_credentials("1234"))
        )  # another account: its own quota
        emulator.set_quota("GetDiscoveredResource", None)
        _fetch(api)


def test_a_reset_keeps_the_quota_refilled():
    clock = Clock()
    with ConfigEmulator(quota={"GetDiscoveredResource": 1}, clock=clock) as emulator:
        emulator.store.add(TYPE, "i-1", configuration={"ImageId": "m-1"})
        api = _client(emulator)
        _fetch(api)
        emulator.reset()
        emulator.store.add(TYPE, "i-1", configuration={"ImageId": "m-1"})
        _fetch(api)
        with pytest.raises(ApiError):
            _fetch(api)


def test_a_bad_quota_is_refused():
    with pytest.raises(ValueError, match="positive number per second"):
        ConfigEmulator(quota={"GetDiscoveredResource": 0})


# -- the API client: a throttled answer backs off the call and slows the action ---------------
def test_a_throttled_answer_both_backs_off_the_call_and_sets_the_actions_pace(emulator):
    sleeps: list[float] = []
    client = ApiClient(
        TEST_CREDENTIALS,
        retry=RetryPolicy(max_attempts=3, base_delay=0.1, max_delay=1),
        sleep=sleeps.append,
        rng=random.Random(3),
    )
    api = ConfigApi(client, endpoint=emulator.url)
    emulator.store.add(TYPE, "i-1", configuration={"ImageId": "m-1"})
    for _ in range(6):
        _fetch(api)
    pace = client.pacing.of("Config", "GetDiscoveredResource")
    assert pace.rate is None and sleeps == []
    emulator.script("GetDiscoveredResource", Throttle(), Pass())
    _fetch(api)  # throttled, then retried
    assert 0.05 <= sleeps[0] <= 0.1  # the call's own backoff
    # 0.9 x the 6 earlier successes per second observed (at least 0.1 s), + 1 success since
    assert pace.rate is not None and pace.rate <= 0.9 * 6 / 0.1 + GROWTH + 1e-9
    assert client.under(Deadline(None)).pacing is client.pacing  # one pace per account


def test_a_member_accounts_calls_keep_the_user_limit(emulator):
    from rulekit._calls import CloudApi

    emulator.stub("Ecs", "DescribeRegions", {"Regions": {}})
    api = CloudApi(ApiClient(TEST_CREDENTIALS, rate_limits={"ecs": 4}), environ=emulator.environ())
    api.call("Ecs", "DescribeRegions")
    for _ in range(3):
        api.call("Ecs", "DescribeRegions", account_id="222")
    member = [c for c in emulator.calls_of("DescribeRegions") if c.account_id == "222"]
    assert len(member) == 3
    assert member[-1].at - member[0].at >= 2 / 4 * 0.9  # 4/s, whatever the machine's speed


# -- sweeps under a quota, over real HTTP ----------------------------------------------------
def _fill(emulator: ConfigEmulator, count: int) -> set[str]:
    for n in range(count):
        emulator.store.add(TYPE, f"i-{n:05d}", configuration={"ImageId": "m-ok"})
    return {f"i-{n:05d}" for n in range(count)}


def _sweep(emulator: ConfigEmulator, fc_context: Any, **env: str) -> dict[str, Any]:
    return run(
        scheduled_event(),
        fc_context,
        environ=emulator.environ(RULEKIT_RULES=SWEEPS, **env),
    )


def test_a_sweep_under_a_quota_delivers_every_evaluation_exactly_once(fc_context):
    # A small quota with little burst: even a loaded machine's 16 threads go over it.
    with ConfigEmulator() as emulator:
        emulator.set_quota("GetDiscoveredResource", 10, burst=2)
        resources = _fill(emulator, 40)
        summary = _sweep(emulator, fc_context, RULEKIT_SWEEP_CONCURRENCY="16")
        fetches = emulator.calls_of("GetDiscoveredResource")
    throttled = [c for c in fetches if c.code == Throttle.code]
    assert throttled, "the sweep never met the quota: the test proves nothing"
    assert summary["errors"] == 0 and summary["delivered"] == 40 and summary["complete"]
    copies = check_delivered_once_or_named(emulator, resources, None)
    assert set(copies.values()) == {1}
    assert len(fetches) - len(throttled) == 40  # every throttled fetch was retried
    # With the pace switched off, the same sweep reports 4 to 7 of the 40 INSUFFICIENT_DATA:
    # 16 threads each backing off alone keep hitting the quota until their attempts run out.


def test_a_user_rate_limit_is_honoured_on_the_wire(emulator, fc_context):
    _fill(emulator, 25)
    _sweep(emulator, fc_context, RULEKIT_CONFIG_RATE_LIMIT="10")
    arrived = [c.at for c in emulator.calls_of("GetDiscoveredResource")]
    assert len(arrived) == 25
    # Sent 0.1 s apart; on arrival, a late request may bunch up with the next ones (a margin of
    # 3). Unpaced, 16 threads send all 25 within a fraction of a second.
    busiest = max(sum(1 for t in arrived if start <= t < start + 1.0) for start in arrived)
    assert busiest <= 10 + 3
    assert arrived[-1] - arrived[0] >= 24 / 10 * 0.9


def test_without_time_left_a_paced_fetch_is_not_sent(fc_context):
    # 1 request/s and a 4-second function: the pace would hold most fetches past the end, so
    # they are not sent; the sweep flushes what it has and reports the rest as remaining.
    fc_context.function.timeout = 4
    with ConfigEmulator() as emulator:
        _fill(emulator, 20)
        summary = _sweep(
            emulator, fc_context, RULEKIT_CONFIG_RATE_LIMIT="1", RULEKIT_SWEEP_RESERVE="0.5"
        )
    sent = len(emulator.calls_of("GetDiscoveredResource"))
    assert 0 < sent < 20 and not summary["complete"]
    # Not sent is not evaluated: counted as remaining, not reported INSUFFICIENT_DATA.
    assert summary["errors"] == 0 and summary["delivered"] == summary["resources"] == sent
    assert summary["remaining"] == 20 - sent
