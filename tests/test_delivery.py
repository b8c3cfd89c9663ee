"""Delivery: batches of 100, retries of throttling / 5xx / transport failures, no silent loss."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from rulekit import ApiError, DeliveryError
from rulekit._api import ApiClient, RetryPolicy
from rulekit._config_api import ConfigApi
from rulekit._deadline import Deadline
from rulekit.handler import run
from rulekit.testing import (
    TEST_CREDENTIALS,
    ApiFailure,
    Delay,
    Drop,
    Pass,
    ServerError,
    Throttle,
    change_event,
)

FAN_OUT = "sample_rules.many"


def _fan_out_event(disks: int) -> dict[str, Any]:
    return change_event(
        "ACS::ECS::Instance", "i-001", {"Disks": [f"d-{n:04d}" for n in range(disks)]}
    )


def _env(emulator: Any, **extra: str) -> dict[str, str]:
    return emulator.environ(
        RULEKIT_RULES=FAN_OUT, RULEKIT_RULE="fan-out", RULEKIT_RETRY_BASE_DELAY="0.01", **extra
    )


def _delivered_ids(emulator: Any) -> list[str]:
    return [ev["complianceResourceId"] for ev in emulator.evaluations]


def test_evaluations_go_out_in_batches_of_at_most_100(emulator, fc_context):
    summary = run(_fan_out_event(250), fc_context, environ=_env(emulator))
    sizes = [len(json.loads(c.params["Evaluations"])) for c in emulator.put_calls]
    assert sizes == [100, 100, 50]
    assert summary["putEvaluationsCalls"] == 3
    assert sorted(_delivered_ids(emulator)) == [f"d-{n:04d}" for n in range(250)]


def test_exactly_100_evaluations_take_one_call(emulator, fc_context):
    run(_fan_out_event(100), fc_context, environ=_env(emulator))
    assert len(emulator.put_calls) == 1


def test_evaluations_are_sent_as_a_json_array_string_with_result_token(emulator, fc_context):
    run(_fan_out_event(2), fc_context, environ=_env(emulator))
    [call] = emulator.put_calls
    assert call.params["ResultToken"] == "rulekit-test-result-token-0123456789"
    assert call.params["Evaluations"].startswith('[{"accountId":')
    assert "DeleteMode" not in call.params


@pytest.mark.parametrize(
    "fault",
    [
        Throttle(),
        Throttle(code="Throttling.Api"),
        ServerError(503),
        ServerError(500, code="InternalError"),
        Drop(),
    ],
    ids=["throttling-user", "throttling-api", "503", "500", "connection-drop"],
)
def test_retryable_failures_are_retried_and_deliver_exactly_once(emulator, fc_context, fault):
    emulator.script("PutEvaluations", fault, fault)
    summary = run(_fan_out_event(3), fc_context, environ=_env(emulator))
    assert len(emulator.calls_of("PutEvaluations")) == 3
    assert summary["delivered"] == 3
    assert sorted(_delivered_ids(emulator)) == ["d-0000", "d-0001", "d-0002"]


def test_read_timeout_is_retried(emulator, fc_context):
    emulator.script("PutEvaluations", Delay(seconds=1.5, process=False))
    run(_fan_out_event(1), fc_context, environ=_env(emulator, RULEKIT_API_TIMEOUT="1"))
    assert _delivered_ids(emulator) == ["d-0000"]
    assert len(emulator.calls_of("PutEvaluations")) == 2


@pytest.mark.parametrize(
    "code, status",
    [("NoPermission", 400), ("AccountNotExisted", 404), ("InvalidParameter.ResultToken", 400)],
)
def test_client_errors_are_not_retried_and_fail_loudly(emulator, fc_context, code, status):
    emulator.always("PutEvaluations", ApiFailure(status=status, code=code, message="denied"))
    with pytest.raises(DeliveryError) as caught:
        run(_fan_out_event(2), fc_context, environ=_env(emulator))
    assert len(emulator.calls_of("PutEvaluations")) == 1
    assert code in str(caught.value)
    assert caught.value.undelivered == [("ACS::ECS::Disk", "d-0000"), ("ACS::ECS::Disk", "d-0001")]


def test_a_lost_batch_does_not_stop_the_others_and_the_handler_raises_after(emulator, fc_context):
    # 1st batch ok, 2nd batch denied for good, 3rd batch ok.
    emulator.script("PutEvaluations", Pass(), ApiFailure(code="NoPermission"))
    with pytest.raises(DeliveryError) as caught:
        run(_fan_out_event(250), fc_context, environ=_env(emulator))
    error = caught.value
    assert error.delivered == 150
    assert len(error.undelivered) == 100
    assert [rid for _, rid in error.undelivered] == [f"d-{n:04d}" for n in range(100, 200)]
    assert len(emulator.evaluations) == 150
    assert "d-0100" in str(error) and "NoPermission" in str(error)


def test_retries_stop_after_max_attempts(emulator, fc_context):
    emulator.always("PutEvaluations", Throttle())
    with pytest.raises(DeliveryError, match="Throttling.User"):
        run(_fan_out_event(1), fc_context, environ=_env(emulator, RULEKIT_MAX_ATTEMPTS="3"))
    assert len(emulator.calls_of("PutEvaluations")) == 3
    assert emulator.evaluations == []


def test_fc_retry_of_the_same_event_delivers_the_same_results(emulator, fc_context):
    env = _env(emulator)
    emulator.script("PutEvaluations", ApiFailure(code="NoPermission"))
    with pytest.raises(DeliveryError):
        run(_fan_out_event(3), fc_context, environ=env)
    run(_fan_out_event(3), fc_context, environ=env)  # FC re-invokes with the same event
    assert sorted(_delivered_ids(emulator)) == ["d-0000", "d-0001", "d-0002"]
    assert len(emulator.results()) == 3


class TestApiClientRetries:
    """The retry loop itself, with the real SDK over HTTP and a recorded sleep."""

    def _client(self, emulator: Any, **kwargs: Any) -> tuple[ConfigApi, list[float]]:
        sleeps: list[float] = []
        client = ApiClient(TEST_CREDENTIALS, sleep=sleeps.append, rng=random.Random(7), **kwargs)
        return ConfigApi(client, endpoint=emulator.url), sleeps

    def test_backoff_grows_exponentially_with_jitter(self, emulator):
        api, sleeps = self._client(
            emulator, retry=RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=10)
        )
        emulator.script("PutEvaluations", *[Throttle()] * 4)
        api.put_evaluations("token-123456", [])
        assert len(sleeps) == 4
        for retry, slept in enumerate(sleeps, start=1):
            cap = 0.1 * 2 ** (retry - 1)
            assert cap / 2 <= slept <= cap

    def test_backoff_is_capped_by_max_delay(self, emulator):
        api, sleeps = self._client(
            emulator, retry=RetryPolicy(max_attempts=6, base_delay=1, max_delay=2)
        )
        emulator.script("PutEvaluations", *[Throttle()] * 5)
        api.put_evaluations("token-123456", [])
        assert max(sleeps) <= 2

    def test_no_retry_when_the_remaining_time_is_too_short(self, emulator):
        api, sleeps = self._client(emulator, deadline=Deadline(1.0))
        emulator.always("PutEvaluations", Throttle())
        with pytest.raises(ApiError, match="remaining time") as caught:
            api.put_evaluations("token-123456", [])
        assert sleeps == []
        assert caught.value.attempts == 1
        assert caught.value.code == "Throttling.User"

    def test_the_sdk_itself_never_retries(self, emulator):
        api, _ = self._client(emulator, retry=RetryPolicy(max_attempts=1))
        emulator.always("PutEvaluations", ServerError(503))
        with pytest.raises(ApiError) as caught:
            api.put_evaluations("token-123456", [])
        assert len(emulator.calls_of("PutEvaluations")) == 1
        assert caught.value.status == 503 and caught.value.retryable

    def test_deadline_is_unbounded_outside_fc(self):
        assert Deadline(None).remaining() == math.inf
