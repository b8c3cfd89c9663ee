"""The rulekit command: demo, list, test, invoke, new. In-process through main(), plus
subprocesses where the real console entry point matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import DATA

from rulekit._cli import main
from rulekit.testing import TEST_CREDENTIALS

REPO = Path(__file__).parent.parent
CPU = "rule: ecs-cpu-min-count-limit\ncases:\n"


def _rulekit(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rulekit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def _fixture(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


class TestDemo:
    def test_runs_the_example_rule_on_the_embedded_event(self):
        done = _rulekit("demo")
        assert done.returncode == 0, done.stderr
        assert "rule ecs-instance-image-check" in done.stdout
        assert "i-bp1sample0001 (cn-hangzhou): NON_COMPLIANT" in done.stdout
        assert "delivered 1 evaluation(s) in 1 PutEvaluations call(s)" in done.stdout

    def test_an_event_file_and_the_json_summary(self, capsys):
        code = main(
            ["demo", "--event", str(DATA / "events" / "change-ecs-instance.json"), "--json"]
        )
        out = capsys.readouterr().out
        assert code == 0
        assert json.loads(out[out.index("{") :])["compliance"] == {"COMPLIANT": 1}

    def test_a_malformed_event_exits_2_with_one_clear_line(self, capsys):
        code = main(["demo", "--event", str(DATA / "events" / "faq-scheduled-ram-user.json")])
        err = capsys.readouterr().err
        assert code == 2
        assert err.startswith("rulekit demo: EventError: the configuration of ACS::RAM::User")
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


class TestList:
    def test_every_rule_with_pack_types_triggers_parameters(self, capsys):
        assert main(["list"]) == 0
        out = capsys.readouterr().out
        line = next(x for x in out.splitlines() if x.startswith("ecs-instance-image-check"))
        assert "pack=ecs" in line and "types=ACS::ECS::Instance" in line
        assert "triggers=ConfigurationItemChangeNotification" in line
        assert "imageIds (list[str], required)" in line
        assert "from 3 pack(s)" in out and "distribution rulekit-oss" in out

    def test_json_format(self, capsys):
        assert main(["list", "--format", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
        rules = {r["name"]: r for r in data["rules"]}
        assert rules["ecs-instances-in-vpc"]["parameters"] == [
            {"key": "vpcIds", "type": "list[str]", "required": False, "default": []}
        ]
        assert rules["ecs-cpu-min-count-limit"]["kind"] == "condition"
        assert {p["name"] for p in data["packs"]} >= {"ecs", "oss", "ram"}

    def test_p_loads_a_module(self, capsys):
        assert main(["-p", "sample_rules.sweeps", "list"]) == 0
        assert "image-is-approved" in capsys.readouterr().out

    def test_a_misspelt_resource_type_fails_with_rule_and_place(self, capsys):
        assert main(["-p", "sample_plugins.invalid_rule", "list"]) == 1
        err = capsys.readouterr().err
        assert "did you mean 'ACS::ECS::Instance'" in err and "invalid_rule.py:" in err

    def test_a_jsonpath_that_cannot_parse_fails_with_rule_and_line(self, capsys):
        assert main(["-p", "sample_plugins.bad_path", "list"]) == 1
        err = capsys.readouterr().err
        assert "rule 'bad-path-rule'" in err and "bad_path.py:8" in err
        assert "invalid JSONPath" in err


class TestTest:
    def test_the_packs_pass_their_fixtures_with_full_coverage(self, capsys):
        assert main(["test", str(REPO / "plugins"), "--require-coverage"]) == 0
        out = capsys.readouterr().out
        assert out.strip().splitlines()[-1] == "42 passed, 0 failed"

    def test_a_failing_case_prints_expected_and_actual_and_exits_1(self, tmp_path, capsys):
        _fixture(
            tmp_path,
            "x.rulekit.yaml",
            """
rule: ecs-cpu-min-count-limit
params: {cpuCount: "4"}
cases:
  - name: wrong expectation
    resource: {id: i-1, configuration: {Cpu: 2}}
    expect: COMPLIANT
  - name: right expectation
    resource: {id: i-1, configuration: {Cpu: 8}}
    expect: COMPLIANT
""",
        )
        assert main(["test", str(tmp_path)]) == 1
        out = capsys.readouterr().out
        assert "FAILED" in out and "wrong expectation" in out
        assert '"compliance": "COMPLIANT"' in out
        assert "ACS::ECS::Instance i-1: NON_COMPLIANT" in out
        assert out.strip().splitlines()[-1] == "1 passed, 1 failed"

    def test_a_misspelt_optional_parameter_fails_the_case(self, tmp_path, capsys):
        # With its default the case would pass: the deployed handler only warns, tests do not.
        _fixture(
            tmp_path,
            "vpc.rulekit.yaml",
            "rule: ecs-instances-in-vpc\ncases:\n"
            "  - resource: {id: i-1, configuration: {InstanceNetworkType: vpc}}\n"
            "    params: {vpcId: vpc-1}\n"
            "    expect: COMPLIANT\n",
        )
        assert main(["test", str(tmp_path)]) == 1
        out = capsys.readouterr().out
        assert (
            "rule 'ecs-instances-in-vpc' declares no parameter 'vpcId': did you mean 'vpcIds'?"
            in out
        )

    @pytest.mark.parametrize(
        "text, message",
        [
            (
                "rule: no-such-rule\ncases:\n  - {resource: {id: a}, expect: COMPLIANT}\n",
                "unknown rule 'no-such-rule'",
            ),
            ("rule: ecs-cpu-min-count-limit\ncases: []\n", "has no cases"),
            (
                "rule: ecs-cpu-min-count-limit\nexpected: x\ncases:\n  - {expect: COMPLIANT}\n",
                "unknown key(s) ['expected']",
            ),
            (
                CPU + "  - {resource: {id: a}, expected: COMPLIANT}\n",
                "unknown key(s) ['expected']",
            ),
            (
                CPU + "  - {resource: {id: a, configuration: {Cpu: 8}}, params: {cpuCount: '1'}}\n",
                "has no 'expect'",
            ),
            (
                CPU + "  - {resource: {id: a}, expect: COMPLIANT}\n",
                "ParamsError",
            ),
            (
                "rule: ecs-instance-image-owner-system\ncases:\n"
                "  - {resource: {id: a, configuration: "
                "{ImageId: m}}, expect: COMPLIANT}\n",
                "DescribeImages",
            ),
        ],
        ids=[
            "unknown-rule",
            "no-cases",
            "unknown-file-key",
            "unknown-case-key",
            "no-expect",
            "case-raises",
            "unstubbed-api-call",
        ],
    )
    def test_strict_never_a_silent_pass(self, request, tmp_path, capsys, text, message):
        _fixture(tmp_path, "strict.rulekit.yaml", text)
        # A fixture that cannot be read as written is a collection error (2); a case that
        # cannot pass is a failure (1).
        collection = request.node.callspec.id in (
            "unknown-rule",
            "no-cases",
            "unknown-file-key",
            "unknown-case-key",
        )
        assert main(["test", str(tmp_path)]) == (2 if collection else 1)
        out = capsys.readouterr().out
        assert message in out
        assert out.strip().splitlines()[-1].endswith("1 failed")

    def test_collection_errors_exit_2(self, tmp_path, capsys):
        _fixture(tmp_path, "bad.rulekit.yaml", "rule: [unclosed\n")
        assert main(["test", str(tmp_path)]) == 2
        assert capsys.readouterr().err == (
            f"rulekit test: {tmp_path / 'bad.rulekit.yaml'}:2:1: did not find expected ',' or "
            "']' (while parsing a flow sequence)\n"
        )
        assert main(["test", str(tmp_path / "missing")]) == 2
        assert "no such file or folder" in capsys.readouterr().err

    def test_usage_errors_exit_2(self, capsys):
        with pytest.raises(SystemExit) as caught:
            main(["test", "--format", "xml"])
        assert caught.value.code == 2
        assert main(["test", str(REPO / "plugins"), "-k", "and ("]) == 2

    def test_k_filters_with_and_or_not(self, capsys):
        assert main(["test", str(REPO / "plugins"), "-k", "oss and not encryption", "-v"]) == 0
        out = capsys.readouterr().out
        assert "oss-bucket-public-read-prohibited" in out
        assert "encryption::" not in out
        assert out.strip().splitlines()[-1] == "6 passed, 0 failed"

    def test_skipped_cases_are_counted(self, tmp_path, capsys):
        _fixture(
            tmp_path,
            "s.rulekit.yaml",
            """
rule: oss-bucket-public-write-prohibited
cases:
  - {name: later, skip: "waiting for data", resource: {id: b}, expect: COMPLIANT}
  - {name: now, resource: {id: b, configuration: {AccessControlList: {Grant: private}}},
     expect: COMPLIANT}
""",
        )
        assert main(["test", str(tmp_path)]) == 0
        assert capsys.readouterr().out.strip().splitlines()[-1] == "1 passed, 0 failed, 1 skipped"

    def test_junit_xml_has_one_distinct_testcase_per_case(self, tmp_path, capsys):
        _fixture(
            tmp_path,
            "j.rulekit.yaml",
            """
rule: oss-bucket-public-write-prohibited
cases:
  - {name: same, resource: {id: a, configuration: {AccessControlList: {Grant: private}}},
     expect: COMPLIANT}
  - {name: same, resource: {id: b, configuration: {AccessControlList: {Grant: x}}},
     expect: NON_COMPLIANT}
""",
        )
        report = tmp_path / "out" / "junit.xml"
        assert main(["test", str(tmp_path), "--junit-xml", str(report)]) == 1
        suite = ET.parse(report).getroot()
        cases = suite.findall("testcase")
        assert len(cases) == 2 and suite.get("tests") == "2" and suite.get("failures") == "1"
        assert len({(c.get("classname"), c.get("name")) for c in cases}) == 2
        assert cases[1].find("failure") is not None

    def test_json_report(self, tmp_path, capsys):
        assert main(["test", str(REPO / "plugins" / "oss"), "--format", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert (data["passed"], data["failed"]) == (10, 0)
        assert data["cases"][0]["status"] == "passed"
        assert data["uncovered"] == []  # only the pack under test counts, not every installed one

    def test_an_explicit_file_may_have_any_name(self, tmp_path, capsys):
        path = _fixture(
            tmp_path,
            "cases.json",
            json.dumps(
                {
                    "rule": "ram-user-no-access-key",
                    "cases": [
                        {"resource": {"id": "u", "configuration": {}}, "expect": "COMPLIANT"}
                    ],
                }
            ),
        )
        assert main(["test", str(path)]) == 0


class TestInvoke:
    def test_prints_the_evaluations_the_handler_delivers(self, capsys):
        event = str(DATA / "events" / "change-ecs-instance.json")
        assert main(["invoke", event, "--rule", "ecs-instance-image-check"]) == 0
        captured = capsys.readouterr()
        [line] = captured.out.strip().splitlines()
        assert json.loads(line)["complianceType"] == "COMPLIANT"
        assert "1 evaluation(s)" in captured.err

    def test_params_override_the_event(self, capsys):
        event = str(DATA / "events" / "change-ecs-instance.json")
        assert (
            main(
                [
                    "invoke",
                    event,
                    "--rule",
                    "ecs-instance-image-check",
                    "--params",
                    "imageIds=m-other",
                ]
            )
            == 0
        )
        assert json.loads(capsys.readouterr().out)["complianceType"] == "NON_COMPLIANT"

    def test_several_rules_loaded_need_rule(self, capsys):
        event = str(DATA / "events" / "change-ecs-instance.json")
        assert main(["invoke", event]) == 2
        err = capsys.readouterr().err
        # Only the rules written for the event's resource type are candidates.
        assert err.startswith(
            f"rulekit invoke: {event} could be for any of 7 loaded rules; pass --rule NAME "
            "(one of: ecs-cpu-min-count-limit, "
        )
        assert "oss-" not in err and "ram-" not in err

    def test_the_one_rule_for_the_events_resource_type_runs_without_rule(
        self, tmp_path, monkeypatch, capsys
    ):
        from rulekit.testing import change_event

        (tmp_path / "disk_rules.py").write_text(
            "from rulekit import Compliance, rule\n\n"
            "@rule(resource_type='ACS::ECS::Disk', name='disk-only')\n"
            "def disk_only(resource):\n    return Compliance.NON_COMPLIANT, 'checked'\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        event = tmp_path / "disk.json"
        event.write_text(json.dumps(change_event("ACS::ECS::Disk", "d-1", {"Size": 40})))
        assert main(["-p", "disk_rules", "invoke", str(event)]) == 0  # the ECS packs load too
        assert json.loads(capsys.readouterr().out)["complianceResourceId"] == "d-1"

    def test_endpoint_delivers_with_put_evaluations(self, emulator, monkeypatch, capsys):
        for key in (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
        ):
            monkeypatch.setenv(key, emulator.environ()[key])
        event = str(DATA / "events" / "change-ecs-instance.json")
        assert (
            main(
                ["invoke", event, "--rule", "ecs-instance-image-check", "--endpoint", emulator.url]
            )
            == 0
        )
        assert emulator.put_calls[0].access_key_id == TEST_CREDENTIALS.access_key_id
        assert emulator.evaluations[0]["complianceResourceId"] == "i-bp1example0001"

    def test_endpoint_without_credentials_says_which_variables(self, emulator, monkeypatch, capsys):
        for key in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
            monkeypatch.delenv(key, raising=False)
        event = str(DATA / "events" / "change-ecs-instance.json")
        argv = ["invoke", event, "--rule", "ecs-instance-image-check", "--endpoint", emulator.url]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "needs credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID" in err
        assert "FC" not in err and emulator.calls == []

    def test_bad_input_is_one_line_and_exit_code(self, tmp_path, capsys):
        assert main(["invoke", str(tmp_path / "none.json")]) == 2
        assert (
            main(
                [
                    "invoke",
                    str(DATA / "events" / "faq-scheduled-ram-user.json"),
                    "--rule",
                    "ram-user-no-access-key",
                ]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert "EventError" in err and "Traceback" not in err
        assert (
            main(
                ["invoke", str(DATA / "events" / "change-ecs-instance.json"), "--params", "novalue"]
            )
            == 2
        )


class TestNew:
    def test_new_rule_passes_rulekit_test_as_generated(self, tmp_path):
        done = _rulekit(
            "new", "rule", "bucket-owner-tag", "--resource-type", "ACS::OSS::Bucket", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "bucket_owner_tag.py").exists()
        result = _rulekit("test", cwd=tmp_path, env={"RULEKIT_LOAD_PLUGINS": ""})
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip().splitlines()[-1] == "3 passed, 0 failed"

    def test_new_pack_is_installable_layout_and_passes_as_generated(self, tmp_path):
        done = _rulekit("new", "pack", "acme", "--dir", str(tmp_path))
        assert done.returncode == 0, done.stderr
        root = tmp_path / "rulekit-acme"
        assert 'acme = "rulekit_acme"' in (root / "pyproject.toml").read_text()
        result = _rulekit(
            "test",
            str(root),
            "--junit-xml",
            str(tmp_path / "r.xml"),
            env={"RULEKIT_LOAD_PLUGINS": ""},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip().splitlines()[-1] == "3 passed, 0 failed"
        assert len(ET.parse(tmp_path / "r.xml").getroot().findall("testcase")) == 3

    def test_new_refuses_to_overwrite_and_misspelt_types(self, tmp_path, capsys):
        args = ["new", "rule", "x", "--resource-type", "ACS::ECS::Instance", "--dir", str(tmp_path)]
        assert main(args) == 0
        assert main(args) == 2
        assert "exists" in capsys.readouterr().err
        assert (
            main(
                [
                    "new",
                    "rule",
                    "y",
                    "--resource-type",
                    "ACS::ECS::Instanse",
                    "--dir",
                    str(tmp_path),
                ]
            )
            == 2
        )
        assert "did you mean 'ACS::ECS::Instance'" in capsys.readouterr().err
        assert main(["new", "rule", "Bad Name", "--resource-type", "ACS::ECS::Instance"]) == 2


class TestFixtureFeatures:
    def test_several_evaluations_match_one_to_one_in_any_order(self, tmp_path, capsys):
        _fixture(
            tmp_path,
            "many.rulekit.yaml",
            """
rule: fan-out
module: sample_rules.many
cases:
  - name: two disks
    resource: {id: i-1, configuration: {Disks: [d-2, d-1]}}
    expect:
      - {resource_id: d-1, resource_type: ACS::ECS::Disk, compliance: COMPLIANT}
      - {resource_id: d-2, compliance: COMPLIANT}
  - name: count must agree
    resource: {id: i-1, configuration: {Disks: [d-1]}}
    expect: [COMPLIANT, COMPLIANT]
""",
        )
        assert main(["test", str(tmp_path)]) == 1
        out = capsys.readouterr().out
        assert "expected 2 evaluation(s), got 1" in out
        assert out.strip().splitlines()[-1] == "1 passed, 1 failed"

    def test_listed_api_responses_are_served_call_by_call(self, tmp_path, capsys):
        full_page = {"FlowLogs": {"FlowLog": [{"Status": "Inactive"}] * 50}, "TotalCount": 51}
        last_page = {"FlowLogs": {"FlowLog": [{"Status": "Active"}]}, "TotalCount": 51}
        _fixture(
            tmp_path,
            "paging.rulekit.json",
            json.dumps(
                {
                    "rule": "vpc-flow-logs-enabled",
                    "module": "sample_rules.cloud",
                    "cases": [
                        {
                            "name": "the active log is on page two",
                            "api": {"Vpc": {"DescribeFlowLogs": [full_page, last_page]}},
                            "resource": {"id": "vpc-1"},
                            "expect": "COMPLIANT",
                        },
                        {
                            "name": "one page, none active",
                            "api": {
                                "Vpc": {
                                    "DescribeFlowLogs": [
                                        last_page
                                        | {"FlowLogs": {"FlowLog": [{"Status": "Inactive"}]}}
                                    ]
                                }
                            },
                            "resource": {"id": "vpc-2"},
                            "expect": {"compliance": "NON_COMPLIANT", "annotation": "none active"},
                        },
                    ],
                }
            ),
        )
        assert main(["test", str(tmp_path)]) == 0, capsys.readouterr().out

    def test_scheduled_trigger_and_inline_event(self, tmp_path, capsys):
        event = json.loads((DATA / "events" / "change-ecs-instance.json").read_text())
        _fixture(
            tmp_path,
            "trig.rulekit.json",
            json.dumps(
                {
                    "rule": "image-is-approved",
                    "module": "sample_rules.sweeps",
                    "cases": [
                        {
                            "name": "periodic",
                            "trigger": "ScheduledNotification",
                            "resource": {"id": "i-9", "configuration": {"ImageId": "m-ok"}},
                            "expect": "COMPLIANT",
                        },
                        {
                            "name": "inline event",
                            "event": event,
                            "expect": {"compliance": "NON_COMPLIANT", "annotation": "image m-bp1"},
                        },
                    ],
                }
            ),
        )
        assert main(["test", str(tmp_path)]) == 0


def test_a_reader_that_stops_reading_is_not_an_error_message():
    # `rulekit list --format json | head`: before, "rulekit list: Broken pipe" on stderr.
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before rulekit writes anything
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rulekit", "list", "--format", "json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.stderr == "" and done.returncode == 141


def test_an_event_file_that_is_not_json_is_named_with_line_and_column(tmp_path, capsys):
    event = tmp_path / "bad.json"
    event.write_text('{\n  "messageType": 1,\n  oops\n}')
    assert main(["invoke", str(event)]) == 2
    err = capsys.readouterr().err
    assert f"{event}:3:3: not JSON: Expecting property name" in err
    fixture = tmp_path / "case.rulekit.yaml"
    fixture.write_text("rule: x\ncases: []\n")
    assert main(["invoke", str(fixture)]) == 2
    assert f"use: rulekit test {fixture}" in capsys.readouterr().err


def test_rulekit_test_refuses_the_settings_the_handler_would_refuse(tmp_path, monkeypatch, capsys):
    # Before: RULEKIT_MAX_ATTEMPTS=three passed every case locally; FC then raised at once.
    monkeypatch.setenv("RULEKIT_MAX_ATTEMPTS", "three")
    assert main(["test", str(tmp_path)]) == 2
    assert "RULEKIT_MAX_ATTEMPTS" in capsys.readouterr().err


def test_a_fixtures_module_is_named_as_the_fixtures_not_as_dash_p(tmp_path, capsys):
    # Before: "plugin 'no_such_rules_module' (from -p) ..." when no -p was given.
    _fixture(
        tmp_path,
        "typo.rulekit.yaml",
        "rule: r\nmodule: no_such_rules_module\ncases:\n"
        "  - name: a\n    resource: {type: ACS::ECS::Instance, id: i-1}\n"
        "    expect: COMPLIANT\n",
    )
    assert main(["test", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "'no_such_rules_module' (from a fixture's module:) failed to load" in err
    assert "-p" not in err


def test_a_path_given_to_dash_p_says_to_name_a_module(capsys):
    # Before: "TypeError: the 'package' argument is required to perform a relative import".
    assert main(["-p", "../rulekit-acme/rulekit_acme", "list"]) == 1
    err = capsys.readouterr().err
    assert "is a path; name a module importable from the current folder (e.g. 'rulekit_acme'" in err
    assert "TypeError" not in err
