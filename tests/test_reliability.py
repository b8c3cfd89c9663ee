"""Reliability: faults at random positions lose nothing silently; hostile input never crashes
with anything but a RulekitError and never gets an out-of-scope resource evaluated.

Bounded for CI: a few hundred resources per sweep, fixed seeds, hypothesis with a small
example budget and no deadline."""

from __future__ import annotations

import json
import random
import traceback
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit import (
    ApiError,
    Compliance,
    DeliveryError,
    Params,
    Resource,
    RuleDefinitionError,
    RulekitError,
    Scope,
    rule,
)
from rulekit._dispatcher import Dispatcher
from rulekit._event import decode_event
from rulekit._params import _with_pydantic, parse_params
from rulekit._scope_fields import API_FIELDS
from rulekit._tags import parse_tags
from rulekit.handler import run
from rulekit.testing import (
    ApiFailure,
    Delay,
    Drop,
    Pass,
    ServerError,
    Throttle,
    change_event,
    scheduled_event,
)

SWEEPS = "sample_rules.sweeps"
TYPE = "ACS::ECS::Instance"
FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# -- faults at random positions in a long sweep --------------------------------------------
def _script(rng: random.Random, calls: int, rate: float, faults: list[Any]) -> list[Any]:
    return [rng.choice(faults) if rng.random() < rate else Pass() for _ in range(calls)]


def _fill(emulator: Any, count: int) -> set[str]:
    for n in range(count):
        emulator.store.add(
            TYPE, f"i-{n:05d}", configuration={"ImageId": "m-ok" if n % 2 else "m-bad"}
        )
    return {f"i-{n:05d}" for n in range(count)}


def _env(emulator: Any, **extra: str) -> dict[str, str]:
    settings = {
        "RULEKIT_RULES": SWEEPS,
        "RULEKIT_RETRY_BASE_DELAY": "0.001",
        "RULEKIT_RETRY_MAX_DELAY": "0.005",
        "RULEKIT_MAX_ATTEMPTS": "4",
        "RULEKIT_API_TIMEOUT": "0.5",
        "RULEKIT_SWEEP_CONCURRENCY": "4",
    }
    return emulator.environ(**{**settings, **extra})


def check_delivered_once_or_named(
    emulator: Any, resources: set[str], error: RulekitError | None
) -> Counter[str]:
    """The end-to-end invariant, as the platform sees it: each resource's result is stored, or
    the raised error names it. Returns how many copies of each resource's evaluation arrived.

    "Exactly once" is per batch: a resource is in one batch only, and the platform's results
    hold it once. On the wire that batch may arrive twice: when an answer is later than the
    client's read timeout (a fault, or a loaded machine delaying an ordinary answer), the
    server has stored it and the client, which cannot tell a late answer from a lost request,
    sends it again, and an error may name what did land. Both are the safe side:
    results are keyed by resource, so a second copy rewrites the same result (FC's retry of
    the event likewise). Counting wire copies made the seeded test fail on a loaded machine."""
    batches: dict[str, set[str]] = {}
    copies: Counter[str] = Counter()
    for call in emulator.put_calls:
        body = call.params["Evaluations"]
        for wire in json.loads(body):
            batches.setdefault(wire["complianceResourceId"], set()).add(body)
            copies[wire["complianceResourceId"]] += 1
    assert all(len(bodies) == 1 for bodies in batches.values()), "a resource in two batches"
    stored = Counter(key[3] for key in emulator.results())
    assert all(n == 1 for n in stored.values())
    named = {rid for _, rid in getattr(error, "undelivered", ())}
    missing = resources - set(stored) - named
    if error is None or isinstance(error, DeliveryError):
        assert not missing, f"lost without a word: {sorted(missing)[:5]}"
    else:  # the sweep stopped early: what it did not reach is counted in the message
        assert "not evaluated" in str(error)
    if isinstance(error, DeliveryError):
        assert str(len(named)) in str(error)
    return copies


@pytest.mark.parametrize("seed", range(8))
def test_faults_anywhere_deliver_everything_exactly_once_or_say_what_is_missing(
    emulator, fc_context, seed
):
    rng = random.Random(seed)
    resources = _fill(emulator, 330)
    transient = [Throttle(), ServerError(503), ServerError(500, code="InternalError"), Drop()]
    emulator.script(
        "PutEvaluations", *_script(rng, 8, 0.5, [*transient, Delay(0.7, process=False)])
    )
    emulator.script("GetDiscoveredResource", *_script(rng, 400, 0.08, transient))
    emulator.script("ListDiscoveredResources", *_script(rng, 6, 0.4, transient))
    try:
        summary = run(scheduled_event(), fc_context, environ=_env(emulator))
    except DeliveryError as error:  # a batch failed every attempt: it must say which
        check_delivered_once_or_named(emulator, resources, error)
        return
    except ApiError as error:  # the listing failed every attempt: what was done is delivered
        assert error.action == "ListDiscoveredResources"
        check_delivered_once_or_named(emulator, resources, error)
        return
    check_delivered_once_or_named(emulator, resources, None)
    assert summary["delivered"] == len(resources) and summary["complete"]
    # a configuration that could not be fetched is reported, never dropped
    insufficient = sum(
        1 for ev in emulator.results().values() if ev["complianceType"] == "INSUFFICIENT_DATA"
    )
    assert insufficient == summary["errors"]


def test_an_answer_later_than_the_timeout_is_a_re_send_not_a_loss(emulator, fc_context):
    # What a loaded machine does to an ordinary answer (the seeded test above failed once so):
    # the server stores the batch, the client times out and sends it again.
    resources = _fill(emulator, 330)
    emulator.script("PutEvaluations", Pass(), Delay(0.7, process=True), Throttle())
    summary = run(scheduled_event(), fc_context, environ=_env(emulator))
    copies = check_delivered_once_or_named(emulator, resources, None)
    assert sorted(Counter(copies.values()).items()) == [(1, 230), (2, 100)]  # one batch twice
    assert summary["delivered"] == 330 and len(emulator.results()) == 330


def test_the_invariant_check_catches_a_resource_neither_delivered_nor_named(emulator, fc_context):
    resources = _fill(emulator, 120)
    run(scheduled_event(), fc_context, environ=_env(emulator))
    with pytest.raises(AssertionError, match="lost without a word"):
        check_delivered_once_or_named(emulator, resources | {"i-never-seen"}, None)


def test_fc_re_invocation_after_a_failure_delivers_the_same_results(emulator, fc_context):
    resources = _fill(emulator, 250)
    emulator.script("PutEvaluations", Pass(), *[Throttle()] * 4)  # 2nd batch lost for good
    with pytest.raises(DeliveryError) as caught:
        run(scheduled_event(), fc_context, environ=_env(emulator))
    assert len(caught.value.undelivered) == 100
    first = dict(emulator.results())
    run(scheduled_event(), fc_context, environ=_env(emulator))  # FC retries the event
    results = emulator.results()
    assert {key[3] for key in results} == resources
    for key, evaluation in first.items():  # what was delivered before is delivered the same
        assert results[key]["complianceType"] == evaluation["complianceType"]


def test_a_lost_response_is_re_sent_and_results_stay_idempotent(emulator, fc_context):
    resources = _fill(emulator, 120)
    # The server processes the call, but the answer arrives after the client gave up.
    emulator.script("PutEvaluations", Delay(0.7, process=True))
    run(scheduled_event(), fc_context, environ=_env(emulator))
    delivered = Counter(ev["complianceResourceId"] for ev in emulator.evaluations)
    assert max(delivered.values()) == 2  # the first batch twice: at-least-once on the wire
    results = emulator.results()
    assert {key[3] for key in results} == resources and len(results) == len(resources)


# -- hostile input ---------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)


def _mutated_event(draw: Any) -> Any:
    event = change_event(TYPE, "i-1", {"ImageId": "m-1"}, tags={"env": ["prod"]})
    target = draw(st.sampled_from(["top", "invoking", "item"]))
    node = {
        "top": event,
        "invoking": event["invokingEvent"],
        "item": event["invokingEvent"]["configurationItem"],
    }[target]
    key = draw(st.sampled_from(sorted(node)))
    node[key] = draw(json_values)
    return event


@st.composite
def hostile_events(draw: Any) -> Any:
    kind = draw(st.sampled_from(["bytes", "text", "json", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "json":
        return json.dumps(draw(json_values))
    return _mutated_event(draw)


@FAST
@given(hostile_events())
def test_event_decoding_never_crashes_with_anything_but_event_error(event):
    from rulekit._event import ConfigEvent

    try:
        decoded = decode_event(event)
        if decoded.resource is not None:  # parsed on first read: read them as a rule would
            assert isinstance(decoded.resource.tags, dict)
            assert isinstance(decoded.resource.configuration_diff, dict)
    except RulekitError as exc:
        assert str(exc), "an error must say what is wrong"
        return
    assert isinstance(decoded, ConfigEvent) and decoded.result_token.strip()


@FAST
@given(json_values)
def test_tag_parsing_never_crashes(raw):
    try:
        tags = parse_tags(raw)
    except RulekitError:
        return
    assert all(isinstance(k, str) and all(isinstance(v, str) for v in vs) for k, vs in tags.items())


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ],
)
def test_json_nested_deeper_than_python_recurses_is_an_event_error(payload):
    from rulekit import EventError

    with pytest.raises(EventError, match="nested too deeply"):
        decode_event(payload)
    event = change_event(TYPE, "i-1")
    event["invokingEvent"]["configurationItem"]["configuration"] = payload
    with pytest.raises(EventError, match="nested too deeply"):
        decode_event(event)


def test_ten_thousand_tags_unicode_and_a_5_mb_configuration(emulator, fc_context):
    tags = {f"键-{n}": [f"値-{n}", "🙂"] for n in range(10_000)}
    configuration = {"ImageId": "m-ok", "Blob": "x" * 5_000_000, "名前": "テスト"}
    event = scheduled_event(TYPE, "i-big", configuration, tags=tags)
    run(event, fc_context, environ=_env(emulator))
    [evaluation] = emulator.evaluations
    assert evaluation["complianceType"] == "COMPLIANT"


scope_values = st.one_of(
    st.text(max_size=30),
    st.lists(st.text(max_size=10), max_size=4),
    st.integers(),
    st.lists(
        st.fixed_dictionaries({"TagKey": st.text(max_size=5), "TagValue": st.text(max_size=5)}),
        max_size=3,
    ),
)
scopes = st.dictionaries(
    st.sampled_from(sorted(set(API_FIELDS) - {"FolderIdsScope", "ExcludeFolderIdsScope"})),
    scope_values,
    max_size=5,
)
resources = st.builds(
    Resource,
    id=st.text(min_size=1, max_size=8),
    type=st.sampled_from([TYPE, "ACS::ECS::Disk"]),
    region=st.sampled_from(["cn-hangzhou", "cn-beijing", ""]),
    account_id=st.text(max_size=5),
    name=st.none() | st.text(max_size=5),
    resource_group_id=st.none() | st.text(max_size=5),
    tags=st.dictionaries(
        st.text(max_size=5), st.lists(st.text(max_size=5), max_size=2), max_size=4
    ),
    configuration=st.just({}),
)


@FAST
@given(scopes, resources)
def test_an_out_of_scope_resource_is_never_evaluated(scope_fields, resource):
    try:
        scope = Scope.from_api(scope_fields)
    except RulekitError:
        return
    calls: list[str] = []

    def spy_function(resource):
        calls.append(resource.id)
        return Compliance.COMPLIANT

    try:
        spy = rule(resource_types=[TYPE, "ACS::ECS::Disk"], scope=scope, name="spy")(spy_function)
    except RuleDefinitionError:  # a ResourceTypesScope outside the rule's types
        return

    event = decode_event(change_event(TYPE, "i-x", {}))
    dispatcher = Dispatcher([spy])
    prepared = dispatcher.prepare(event)
    from rulekit._context import Context

    [evaluation] = dispatcher.evaluate(prepared, resource, Context(event=event, rule=spy))
    reason = scope.why_out_of_scope(resource)
    if reason is None and scope.why_undecided(resource) is not None:  # group unknown
        assert calls == [] and evaluation.compliance is Compliance.INSUFFICIENT_DATA
        return
    if reason is None:
        assert calls == [resource.id] and evaluation.compliance is Compliance.COMPLIANT
    else:
        assert calls == [] and evaluation.compliance is Compliance.NOT_APPLICABLE


class Simple(Params):
    name: str = "x"
    count: int = 1
    ratio: float = 0.5
    enabled: bool = False
    ids: list[str] = []
    ports: set[int] = set()
    limits: dict[str, int] = {}
    optional: list[int] | None = None


platform_strings = st.dictionaries(
    st.sampled_from(
        ["name", "count", "ratio", "enabled", "ids", "ports", "limits", "optional", "unknownKey"]
    ),
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [
                "1",
                "-2",
                " 3 ",
                "1.5",
                "1e3",
                ".5",
                "true",
                "False",
                "yes",
                "off",
                "t",
                "2",
                "a,b",
                "[1,2]",
                '{"a": "1"}',
                "1_000",
                "",
                " ",
                "1,2,x",
                "[]",
                "{}",
            ]
        ),
    ),
    max_size=6,
)


@FAST
@given(platform_strings)
def test_parameter_coercion_is_params_or_params_error_and_matches_pydantic(raw):
    from rulekit._params import _preprocess

    try:
        fast = parse_params(Simple, raw)
    except RulekitError:
        fast = None
    try:
        slow = _with_pydantic(Simple, _preprocess(Simple.param_fields(), raw), raw)
    except RulekitError:
        slow = None
    assert (fast is None) == (slow is None)
    if fast is not None and slow is not None:
        assert fast.model_dump() == slow.model_dump()


# -- whole sweeps over hostile inventories and random faults -----------------------------------
def _secret_forms() -> list[str]:
    """Every secret of the suite in each form a server was seen echoing it."""
    import base64
    from urllib.parse import quote

    from rulekit.testing import TEST_CREDENTIALS, TEST_RESULT_TOKEN

    forms = []
    for secret in (
        TEST_CREDENTIALS.access_key_secret,
        TEST_CREDENTIALS.security_token or "",
        TEST_RESULT_TOKEN,
    ):
        forms += [
            secret,
            quote(secret, safe=""),
            quote(secret, safe="").lower(),
            quote(secret),
            base64.b64encode(secret.encode()).decode(),
        ]
    return forms


SECRET_FORMS = _secret_forms()
# Any code point, lone surrogates (valid JSON, unencodable as UTF-8) drawn often on purpose.
any_character = st.characters(exclude_categories=()) | st.characters(categories=["Cs"])
hostile_text = st.text(any_character, max_size=12)
inventories = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(any_character, min_size=1, max_size=16).filter(lambda r: r != "i-boom"),
            "name": st.none() | hostile_text,
            "image": st.sampled_from(["m-ok", "m-bad"]) | hostile_text,
            "extra": json_values,
            "tags": st.dictionaries(hostile_text, st.lists(hostile_text, max_size=2), max_size=3),
        }
    ),
    min_size=1,
    max_size=30,
    unique_by=lambda r: r["id"],
)
echo = st.sampled_from(SECRET_FORMS).map(lambda form: f"the server echoes {form} back")
faults = st.one_of(
    st.just(Pass()),
    st.just(Throttle()),
    st.just(ServerError(503)),
    st.just(Drop()),
    st.builds(ApiFailure, st.just(400), st.just("InvalidParameter"), echo),
    st.builds(ServerError, st.just(500), st.just("InternalError"), echo),
)
scripts = st.fixed_dictionaries(
    {
        "PutEvaluations": st.lists(faults, max_size=6),
        "GetDiscoveredResource": st.lists(faults, max_size=12),
        "ListDiscoveredResources": st.lists(faults, max_size=3),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(inventory=inventories, script=scripts)
def test_a_sweep_over_hostile_inventories_and_faults_loses_nothing_silently_and_leaks_nothing(
    fc_context, no_secret_in_any_log_record, inventory, script
):
    from rulekit.testing import ConfigEmulator

    seen = len(no_secret_in_any_log_record.lines)
    with ConfigEmulator() as emulator:
        for item in inventory:
            emulator.store.add(
                TYPE,
                item["id"],
                name=item["name"],
                tags=item["tags"],
                configuration={"ImageId": item["image"], "Extra": item["extra"]},
            )
        for action, faults_of in script.items():
            emulator.script(action, *faults_of)
        env = _env(emulator, RULEKIT_API_TIMEOUT="5", RULEKIT_MAX_ATTEMPTS="3")
        error: RulekitError | None = None
        outputs: list[str] = []
        try:
            summary = run(scheduled_event(), fc_context, environ=env)
            outputs.append(json.dumps(summary))
        except RulekitError as raised:  # anything else fails the test: only RulekitError
            error = raised
            outputs.append("".join(traceback.format_exception(raised)))
        check_delivered_once_or_named(emulator, {item["id"] for item in inventory}, error)
        if error is None:
            assert summary["delivered"] == len(inventory) and summary["complete"]
    outputs += no_secret_in_any_log_record.lines[seen:]
    for text in outputs:
        for form in SECRET_FORMS:
            assert form not in text, f"a secret leaked in {text[:200]!r}"
