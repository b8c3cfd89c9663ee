"""Hostile input is one line naming the file or field, a RulekitError (exit code 2 from the
CLI), never a traceback or a hang: events, fixtures, output paths and settings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rulekit import ConfigurationError, EventError, RulekitError
from rulekit._cli import main
from rulekit._dispatcher import Dispatcher
from rulekit._event import decode_event
from rulekit._plugins import Plugins
from rulekit._settings import Settings
from rulekit.handler import run
from rulekit.testing import change_event, scheduled_event
from rulekit.testing._fixtures import collect

DATA = Path(__file__).parent / "data"
EVENT = DATA / "events" / "change-ecs-instance.json"
IMAGE_RULE = "ecs-instance-image-check"


def _one_line(capsys, code: int, *words: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, err
    return err


# -- events ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "1e400", "NaN", "1e30"])
@pytest.mark.parametrize("field", ["orderingTimestamp", "captureTime"])
def test_a_timestamp_json_cannot_hold_as_a_long_is_an_event_error(field, value):
    event = change_event("ACS::ECS::Instance", "i-1", {})
    item = event["invokingEvent"]["configurationItem"]
    node = event if field == "orderingTimestamp" else item
    node[field] = "PLACEHOLDER"
    text = json.dumps(event).replace('"PLACEHOLDER"', value)
    assert value in text
    with pytest.raises(EventError, match=field):
        decode_event(text)


@pytest.mark.parametrize("named", [["ecs-instance-image-check"], {"a": 1}, 3])
def test_a_rule_name_parameter_that_is_not_text_is_an_event_error(named):
    event = decode_event(change_event("ACS::ECS::Instance", "i-1", {}))
    event.rule_parameters["rulekitRule"] = named
    dispatcher = Dispatcher(
        Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ""}, ["sample_rules.sweeps"]).rules
    )
    with pytest.raises(EventError, match="ruleParameters.rulekitRule must be a rule name"):
        dispatcher.prepare(event)


@pytest.mark.parametrize("own", ['"imageIds=m-1"', "[1, 2]", '"[1]"'])
def test_invoke_params_with_rule_parameters_that_are_not_an_object(tmp_path, capsys, own):
    event = json.loads(EVENT.read_text())
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event).replace(json.dumps(event["ruleParameters"]), own))
    code = main(["invoke", str(path), "--rule", IMAGE_RULE, "--params", "imageIds=m-1"])
    _one_line(capsys, code, "ruleParameters", str(path))


def test_invoke_params_accepts_rule_parameters_given_as_json_text(tmp_path, capsys):
    event = json.loads(EVENT.read_text())
    event["ruleParameters"] = json.dumps({"imageIds": "m-other"})
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    assert main(["invoke", str(path), "--rule", IMAGE_RULE, "--params", "x=1"]) == 0


def test_invoke_of_an_event_with_an_infinite_timestamp_exits_2(tmp_path, capsys):
    path = tmp_path / "event.json"
    path.write_text(
        EVENT.read_text().replace('"orderingTimestamp": ', '"orderingTimestamp": 1e400, "x": ')
    )
    code = main(["invoke", str(path), "--rule", IMAGE_RULE])
    _one_line(capsys, code, "EventError", "orderingTimestamp")


@pytest.mark.parametrize("target", ["/dev/zero", "huge"])
def test_invoke_bounds_what_it_reads(tmp_path, capsys, target):
    path = Path(target) if target.startswith("/") else tmp_path / "huge.json"
    if target == "huge":
        with path.open("wb") as out:
            out.truncate(17 * 1024 * 1024)  # sparse: no disk used
    started = time.monotonic()
    code = main(["invoke", str(path), "--rule", IMAGE_RULE])
    _one_line(capsys, code, "larger than 16 MB")
    assert time.monotonic() - started < 5  # (bound for a hang, not a speed test)


# -- fixtures -------------------------------------------------------------------------------
def _fixture(tmp_path: Path, body: str | bytes, name: str = "f.rulekit.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return path


CASE = "cases:\n  - resource: {id: i-1, configuration: {ImageId: m-1}}\n    expect: COMPLIANT\n"


@pytest.mark.parametrize(
    ("head", "field"),
    [
        ('params: "abc"\n', "'params' must be a mapping"),
        ("params: [1]\n", "'params' must be a mapping"),
        ("api: [1]\n", "'api' must be a mapping"),
        ("api: {Ecs: [1]}\n", "'api.Ecs' must be a mapping"),
    ],
)
def test_a_fixture_with_params_or_api_of_the_wrong_shape_is_a_file_problem(tmp_path, head, field):
    path = _fixture(tmp_path, f"rule: {IMAGE_RULE}\n{head}{CASE}")
    cases, problems = collect([path])
    assert cases == [] and [p.message for p in problems] == [
        field + problems[0].message.split(field)[1]
    ]
    assert field in problems[0].message


def test_a_case_with_params_of_the_wrong_shape_is_named(tmp_path):
    case = (
        "cases:\n  - name: one\n    params: abc\n    resource: {id: i-1}\n    expect: COMPLIANT\n"
    )
    cases, problems = collect([_fixture(tmp_path, f"rule: {IMAGE_RULE}\n{case}")])
    assert cases == [] and "case 'one': 'params' must be a mapping" in problems[0].message


def test_rulekit_test_reports_a_bad_params_shape_without_a_traceback(tmp_path, capsys):
    _fixture(tmp_path, f"rule: {IMAGE_RULE}\napi: {{Ecs: [1]}}\n{CASE}")
    assert main(["test", str(tmp_path)]) == 2  # a fixture that cannot be read as written: exit 2
    captured = capsys.readouterr()
    assert "'api.Ecs' must be a mapping" in captured.out and "Traceback" not in captured.err


def _bomb() -> str:
    lines, previous = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'], "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
        previous = name
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"rule: caf\xe9\n", "not UTF-8 text"),
        (_bomb(), "expands to more than"),
        ("[" * 50_000 + "]" * 50_000, "f.rulekit.yaml:"),  # named, with line:col from libyaml
    ],
    ids=["latin-1", "alias-bomb", "deep"],
)
def test_unreadable_fixture_files_exit_2_in_well_under_a_second(tmp_path, capsys, body, message):
    _fixture(tmp_path, body)
    started = time.monotonic()
    code = main(["test", str(tmp_path)])
    assert time.monotonic() - started < 5  # (bound for a hang: the bomb ran 60 s+ before)
    _one_line(capsys, code, message)


@pytest.mark.parametrize("target", ["/dev/zero", "huge.json"])
def test_a_case_event_pointing_at_a_device_or_a_huge_file_fails_the_case(tmp_path, capsys, target):
    if not target.startswith("/"):
        with (tmp_path / target).open("wb") as out:
            out.truncate(17 * 1024 * 1024)
    _fixture(tmp_path, f"rule: {IMAGE_RULE}\ncases:\n  - event: {target}\n    expect: COMPLIANT\n")
    assert main(["test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "larger than 16 MB" in out


# -- CLI output paths -----------------------------------------------------------------------
def _record(output: Path) -> list[str]:
    return [
        "fixture",
        "record",
        "i-1",
        "--type",
        "ACS::ECS::Instance",
        "--rule",
        IMAGE_RULE,
        "--region",
        "cn-hangzhou",
        "-o",
        str(output),
    ]


def test_fixture_record_into_a_missing_folder(tmp_path, capsys):
    code = main(_record(tmp_path / "missing" / "x.rulekit.yaml"))
    _one_line(capsys, code, "does not exist")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("rule: [unclosed\n", "f.rulekit.yaml:2:1: did not find expected"),
        (f"rule: {IMAGE_RULE}\ncases: 3\n", "'cases' is not a list"),
        ("- 1\n", "is not a fixture"),
    ],
)
def test_fixture_record_onto_a_file_that_cannot_take_a_case(tmp_path, capsys, body, message):
    code = main(_record(_fixture(tmp_path, body)))
    _one_line(capsys, code, message)


def test_export_onto_an_existing_file(tmp_path, capsys):
    target = tmp_path / "deploy"
    target.write_text("not a folder")
    code = main(["export", "--format", "ros", "-o", str(target)])
    _one_line(capsys, code, "is a file")


# -- settings -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "0", "-1"])
@pytest.mark.parametrize(
    "name",
    [
        "RULEKIT_API_TIMEOUT",
        "RULEKIT_RETRY_BASE_DELAY",
        "RULEKIT_RETRY_MAX_DELAY",
        "RULEKIT_SWEEP_RESERVE",
        "RULEKIT_MAX_ATTEMPTS",
        "RULEKIT_SWEEP_CONCURRENCY",
    ],
)
def test_a_non_finite_or_non_positive_setting_is_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})


def test_the_cli_names_a_bad_setting_with_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("RULEKIT_API_TIMEOUT", "nan")
    code = main(["invoke", str(EVENT), "--rule", IMAGE_RULE])
    _one_line(capsys, code, "RULEKIT_API_TIMEOUT")


def test_the_handler_raises_a_rulekit_error_for_a_hostile_event(emulator, fc_context):
    event = scheduled_event()
    event["ruleParameters"] = {"rulekitRule": ["x"]}
    with pytest.raises(RulekitError):
        run(event, fc_context, environ=emulator.environ(RULEKIT_RULES="sample_rules.sweeps"))
