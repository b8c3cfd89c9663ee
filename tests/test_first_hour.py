"""A user's first hour (issue 14): `rulekit emulator`, `invoke --api`, inventories, stub files
and the messages that tell a new user what to do next."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA

from rulekit._cli import main
from rulekit._errors import ConfigurationError, InventoryError
from rulekit.testing import TEST_CREDENTIALS, change_event
from rulekit.testing._inventory import read_inventory, seed
from rulekit.testing._store import ResourceStore
from rulekit.testing._stubs import read_stubs

INSTANCE = "ACS::ECS::Instance"
EVENT = str(DATA / "events" / "change-ecs-instance.json")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class TestInvokeApiStubs:
    def test_the_rules_calls_are_answered_from_the_stub_file(self, tmp_path, capsys, monkeypatch):
        for key in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
            monkeypatch.delenv(key, raising=False)
        stubs = _write(
            tmp_path / "stubs.yaml",
            "Ecs:\n  DescribeImages: {Images: {Image: [{ImageId: m-bp1unknown99, "
            "ImageOwnerAlias: self}]}}\n",
        )
        code = main(
            ["invoke", EVENT, "--rule", "ecs-instance-image-owner-system", "--api", str(stubs)]
        )
        captured = capsys.readouterr()
        assert code == 0, captured.err
        evaluation = json.loads(captured.out)
        assert evaluation["complianceType"] == "NON_COMPLIANT"
        assert json.loads(evaluation["annotation"])["configuration"] == "self"

    def test_a_fixture_file_serves_as_a_stub_file(self, tmp_path, capsys):
        fixture = _write(
            tmp_path / "f.rulekit.yaml",
            "rule: ecs-instance-image-owner-system\napi:\n  Ecs:\n    DescribeImages: "
            "{Images: {Image: [{ImageId: m-1, ImageOwnerAlias: system}]}}\n"
            "cases: [{resource: {id: i-1}, expect: COMPLIANT}]\n",
        )
        code = main(
            ["invoke", EVENT, "--rule", "ecs-instance-image-owner-system", "--api", str(fixture)]
        )
        assert code == 0
        assert json.loads(capsys.readouterr().out)["complianceType"] == "COMPLIANT"

    def test_a_malformed_stub_file_names_the_entry(self, tmp_path):
        bad = _write(tmp_path / "s.yaml", "Ecs:\n  DescribeImages: [1, 2]\n")
        with pytest.raises(ConfigurationError) as caught:
            read_stubs(bad)
        assert str(caught.value) == (
            f"{bad}: Ecs.DescribeImages: a response is a JSON object (or a list of them, "
            "served in turn)"
        )
        with pytest.raises(ConfigurationError, match=r"Ecs: map each action to its recorded"):
            read_stubs(_write(tmp_path / "t.yaml", "Ecs: 3\n"))


class TestInvokeMessages:
    def test_oversize_without_a_config_client_says_how_to_get_one(
        self, tmp_path, capsys, monkeypatch
    ):
        for key in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
            monkeypatch.delenv(key, raising=False)
        event = tmp_path / "oversize.json"
        event.write_text(
            json.dumps(change_event(INSTANCE, "i-1", {}, configuration_type="OVERSIZE"))
        )
        assert main(["invoke", str(event), "--rule", "ecs-instance-image-check"]) == 2
        assert capsys.readouterr().err == (
            f"rulekit invoke: {event} is an OVERSIZE event: its configuration is fetched from "
            "the Config API (GetDiscoveredResource), and there is no Config client. Pass "
            "--endpoint URL with ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET set, or start `rulekit "
            "emulator --inventory FILE` and export the variables it prints\n"
        )


class TestInventory:
    def test_jsonl_fixture_and_platform_forms(self, tmp_path):
        lines = _write(
            tmp_path / "inv.jsonl",
            json.dumps({"id": "i-1", "type": INSTANCE, "configuration": {"Cpu": 2}})
            + "\n\n"
            + json.dumps(
                {
                    "ResourceId": "i-2",
                    "ResourceType": INSTANCE,
                    "Region": "cn-beijing",
                    "AccountId": 1000000000009999,
                    "Configuration": '{"Cpu": 4}',
                    "Tags": '{"env": ["prod"]}',
                    "ResourceCreationTime": 1,
                }
            )
            + "\n",
        )
        first, second = read_inventory(lines)
        assert (first["id"], first["region"], first["configuration"]) == (
            "i-1",
            "cn-hangzhou",
            {"Cpu": 2},
        )
        assert (second["region"], second["account_id"], second["tags"]) == (
            "cn-beijing",
            "1000000000009999",
            {"env": ["prod"]},
        )
        store = ResourceStore()
        assert seed(store, [first, second]) == 2
        stored = store.get(INSTANCE, "i-2", "cn-beijing")
        assert stored is not None and stored.configuration == {"Cpu": 4}

    @pytest.mark.parametrize(
        "model",
        [
            "GetDiscoveredResourceResponseBodyDiscoveredResourceDetail",
            "ListDiscoveredResourcesResponseBodyDiscoveredResourceProfilesDiscoveredResourceProfileList",
        ],
    )
    def test_every_field_of_the_official_sdk_models_is_accepted(self, tmp_path, model):
        # Oracle: the official SDK's response models (alibabacloud-config20200907), not ours.
        from alibabacloud_config20200907 import models

        values = {
            "AccountId": 1000000000009999,
            "AvailabilityZone": "cn-hangzhou-h",
            "ComplianceType": "COMPLIANT",
            "Configuration": '{"Cpu": 2}',
            "Region": "cn-hangzhou",
            "ResourceCreationTime": 1600000000000,
            "ResourceDeleted": 0,
            "ResourceGroupId": "rg-1",
            "ResourceId": "i-1",
            "ResourceName": "web",
            "ResourceStatus": "Running",
            "ResourceType": INSTANCE,
            "Tags": '{"env": ["prod"]}',
            "UpdateTime": 1600000000000,
            "Version": 3,
            "VSwitchId": "vsw-1",
            "VpcId": "vpc-1",
        }
        serialised = getattr(models, model)().from_map(values).to_map()
        assert len(serialised) >= 12  # the model knows most of these fields
        path = _write(tmp_path / "one.json", json.dumps([serialised]))
        [item] = read_inventory(path)
        assert (item["id"], item["account_id"], item["deleted"]) == (
            "i-1",
            "1000000000009999",
            True,
        )
        assert item["tags"] == {"env": ["prod"]}

    def test_an_event_case_that_cannot_be_read_names_the_case(self, tmp_path):
        fixture = _write(
            tmp_path / "e.rulekit.yaml",
            "rule: r\ncases:\n  - {name: raw, event: missing.json, expect: COMPLIANT}\n",
        )
        with pytest.raises(InventoryError) as caught:
            read_inventory(fixture)
        assert str(caught.value) == (
            f"{fixture}: case 'raw': cannot read event file missing.json: No such file or directory"
        )

    def test_a_get_discovered_resource_response(self, tmp_path):
        response = {
            "RequestId": "x",
            "DiscoveredResourceDetail": {"ResourceId": "i-9", "ResourceType": INSTANCE},
        }
        [item] = read_inventory(_write(tmp_path / "r.json", json.dumps(response)))
        assert item["id"] == "i-9"

    @pytest.mark.parametrize(
        ("name", "text", "message"),
        [
            (
                "a.jsonl",
                '{"id": "i-1", "type": "ACS::ECS::Instance"}\nnot json\n',
                "a.jsonl:2: not JSON:",
            ),
            (
                "b.jsonl",
                '{"id": "i-1", "type": "ACS::ECS::Instance", "colour": 1}\n',
                "b.jsonl:1: unknown key(s) ['colour']; expected ",
            ),
            ("c.jsonl", '{"id": "i-1"}\n', "c.jsonl:1: 'type' must be a resource type such as "),
            (
                "t.jsonl",
                '{"id": "b-1", "type": "ACS::OSS::Bukket"}\n',
                "t.jsonl:1: unknown resource type 'ACS::OSS::Bukket'; "
                "did you mean 'ACS::OSS::Bucket'?",
            ),
            ("d.json", '{"x": 1}', "d.json: an inventory is a list of resources, "),
            ("deep.json", "[" * 100_000 + "]" * 100_000, "deep.json: nested too deeply to load"),
            (
                "deep.jsonl",
                json.dumps({"id": "i-1", "type": "ACS::ECS::Instance", "tags": "[" * 100_000}),
                "deep.jsonl:1: 'tags' ",
            ),
            ("e.txt", "", "e.txt: an inventory is a .json or .jsonl file, or a fixture file"),
        ],
    )
    def test_malformed_inventories_name_file_and_line(self, tmp_path, name, text, message):
        with pytest.raises(InventoryError) as caught:
            read_inventory(_write(tmp_path / name, text))
        assert str(caught.value).startswith(f"{tmp_path / name}".replace(name, "") + message)


def _start_emulator(
    *args: str, cwd: Path
) -> tuple[subprocess.Popen[str], dict[str, str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "rulekit", "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    env: dict[str, str] = {}
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.strip().startswith("export "):
            key, _, value = line.strip()[len("export ") :].partition("=")
            env[key] = value
        if "Ctrl-C stops it" in line:
            break
    return process, env, lines


class TestEmulatorCommand:
    def test_serves_a_fixture_inventory_to_run_and_prints_what_to_export(self, tmp_path):
        fixture = Path(__file__).parent.parent / "plugins/ecs/tests/fixtures/ecs_image.rulekit.yaml"
        process, env, lines = _start_emulator("--inventory", str(fixture), cwd=tmp_path)
        try:
            url = env["RULEKIT_CONFIG_ENDPOINT"]
            assert (
                lines[0] == f"Config API emulator at {url} (loopback only; signature checking on)"
            )
            # Three `resource:` cases and one `event:` case (its configuration item).
            assert lines[1] == f"4 resource(s) from {fixture}"
            assert url.startswith("http://127.0.0.1:") and env["RULEKIT_ENDPOINT"] == url
            assert env["ALIBABA_CLOUD_ACCESS_KEY_ID"] == TEST_CREDENTIALS.access_key_id
            assert env["ALIBABA_CLOUD_SECURITY_TOKEN"] == TEST_CREDENTIALS.security_token
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rulekit",
                    "run",
                    "ecs-instance-image-check",
                    "--params",
                    "imageIds=m-bp1approved01",
                    "--format",
                    "json",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp_path,
                env={**os.environ, **env},
            )
            assert done.returncode == 0, done.stderr
            [report] = json.loads(done.stdout)["rules"]
            assert report["resources"] == 4
            assert report["compliance"] == {"COMPLIANT": 2, "NON_COMPLIANT": 2}
            assert "i-bp1example0001" in {e["resourceId"] for e in report["evaluations"]}
            # Signature checking is on: a wrong secret is refused.
            bad = {**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong"}
            refused = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rulekit",
                    "run",
                    "ecs-instance-image-check",
                    "--params",
                    "imageIds=m-1",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp_path,
                env={**os.environ, **bad},
            )
            assert refused.returncode == 1 and "SignatureDoesNotMatch" in refused.stderr
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "200 config ListDiscoveredResources" in out
        assert "400 config ListDiscoveredResources SignatureDoesNotMatch" in out
        assert err.startswith("stopped: ")

    def test_a_port_in_use_is_one_line(self, tmp_path, capsys):
        import socket

        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            assert main(["emulator", "--port", str(port)]) == 2
        assert capsys.readouterr().err.startswith(
            f"rulekit emulator: cannot listen on 127.0.0.1:{port}: "
        )

    def test_a_missing_inventory_is_a_usage_error(self, tmp_path, capsys):
        assert main(["emulator", "--inventory", str(tmp_path / "nope.jsonl")]) == 2
        assert capsys.readouterr().err == (
            f"rulekit emulator: --inventory {tmp_path / 'nope.jsonl'}: no such file\n"
        )


def test_the_fc_zip_leaves_out_pyyaml_by_its_record(tmp_path):
    from rulekit._deploy.package import _trim

    stage = tmp_path / "stage"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-compile",
            "--target",
            str(stage),
            "PyYAML",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (stage / "keep").mkdir()
    (stage / "keep" / "mod.py").write_text("")
    assert (stage / "yaml" / "__init__.py").exists()
    _trim(stage)
    assert sorted(p.name for p in stage.iterdir()) == ["keep"]


SAMPLES = Path(__file__).parent / "sample_plugins"
COMPUTED = SAMPLES / "computed_paths.py"


def _line_of(text: str, path: Path = COMPUTED) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


class TestJsonPathCheck:
    def test_computed_paths_and_path_like_text_load(self, capsys):
        assert main(["-p", "sample_plugins.computed_paths", "list"]) == 0
        assert "rds-net-type" in capsys.readouterr().out

    def test_only_literal_path_arguments_are_checked(self):
        from rulekit import Compliance, rule
        from rulekit._lint import jsonpath_literals

        @rule(resource_type=INSTANCE)
        def reads(resource):
            name = "Cpu"
            a = resource["$.A"]
            b = resource.get("B", 1)
            c = "$.C" in resource or resource.find("$.D[*]")
            d = resource.get("$." + name), resource.get(f"$.{name}")
            note = "$.E is on"
            return Compliance.COMPLIANT, (a, b, c, d, note)

        assert [text for text, _ in jsonpath_literals(reads)] == ["$.A", "B", "$.C", "$.D[*]"]


def _case(tmp_path: Path, rule: str, configuration: str) -> Path:
    return _write(
        tmp_path / f"{rule}.rulekit.yaml",
        f"rule: {rule}\nmodule: sample_plugins.computed_paths\ncases:\n"
        f"  - resource: {{id: r-1, configuration: {configuration}}}\n    expect: COMPLIANT\n",
    )


class TestRuleExceptions:
    def test_rulekit_test_shows_the_rules_file_line_and_its_own_frames(self, tmp_path, capsys):
        fixture = _case(tmp_path, "raises-in-helper", "{Cpu: 1, Memory: 0}")
        assert main(["test", str(fixture)]) == 1
        out = capsys.readouterr().out
        call, helper = (
            _line_of("if _ratio(resource) > 1:"),
            _line_of('return resource.get("$.Cpu")'),
        )
        assert (
            f"  EvaluationError: rule 'raises-in-helper' ({COMPUTED}:{helper}) raised "
            "ZeroDivisionError on ACS::RDS::DBInstance r-1: division by zero\n"
            "  Traceback (the rule's code):\n"
            f'    File "{COMPUTED}", line {call}, in raises_in_helper\n'
        ) in out
        assert f'    File "{COMPUTED}", line {helper}, in _ratio\n' in out
        assert "  ZeroDivisionError: division by zero\n" in out
        assert "rulekit/_rule.py" not in out and "dispatcher.py" not in out

    def test_a_computed_path_is_checked_at_first_use(self, tmp_path, capsys):
        fixture = _case(tmp_path, "computed-bad-path", "{}")
        assert main(["test", str(fixture)]) == 1
        out = capsys.readouterr().out
        line = _line_of("resource.get(broken)")
        assert (
            f"rule 'computed-bad-path' ({COMPUTED}:{line}) raised PathError on "
            "ACS::RDS::DBInstance r-1: invalid JSONPath '$.Disks[?(@.Size >'"
        ) in out

    def test_invoke_prints_the_rules_traceback_after_the_error_line(self, tmp_path, capsys):
        event = tmp_path / "event.json"
        event.write_text(
            json.dumps(change_event("ACS::RDS::DBInstance", "r-1", {"Cpu": 1, "Memory": 0}))
        )
        code = main(
            [
                "-p",
                "sample_plugins.computed_paths",
                "invoke",
                str(event),
                "--rule",
                "raises-in-helper",
            ]
        )
        err = capsys.readouterr().err
        assert code == 1
        first, second, *rest = err.splitlines()
        assert first.startswith("rulekit invoke: EvaluationError: rule 'raises-in-helper' (")
        assert second == "Traceback (the rule's code):"
        assert rest[-1] == "ZeroDivisionError: division by zero"
        assert all("site-packages" not in line and "/rulekit/" not in line for line in rest)

    def test_run_shows_the_rules_traceback_for_the_resource_that_failed(
        self, emulator, monkeypatch, capsys
    ):
        emulator.store.add("ACS::RDS::DBInstance", "r-1", configuration={"Cpu": 1, "Memory": 0})
        for key, value in emulator.environ().items():
            monkeypatch.setenv(key, value)
        code = main(["-p", "sample_plugins.computed_paths", "run", "raises-in-helper"])
        captured = capsys.readouterr()
        assert code == 1  # the rule could not evaluate r-1
        assert "error: ACS::RDS::DBInstance r-1: rule 'raises-in-helper' (" in captured.err
        assert "  Traceback (the rule's code):\n" in captured.err
        assert "  ZeroDivisionError: division by zero" in captured.err


class TestFixtureMessages:
    def test_an_unknown_rule_is_one_error_per_file_with_line_and_suggestion(self, tmp_path, capsys):
        fixture = _write(
            tmp_path / "typo.rulekit.yaml",
            "# a comment first\nrule: ecs-instance-image-chek\ncases:\n"
            "  - {resource: {id: a}, expect: COMPLIANT}\n"
            "  - {resource: {id: b}, expect: COMPLIANT}\n",
        )
        assert main(["test", str(fixture)]) == 2
        out = capsys.readouterr().out
        assert out.count("unknown rule") == 1
        assert (
            f"FAILED {fixture}:2: unknown rule 'ecs-instance-image-chek'; "
            "did you mean 'ecs-instance-image-check'?\n"
        ) in out
        assert out.strip().splitlines()[-1] == "0 passed, 1 failed"

    def test_an_unknown_rule_far_from_any_says_how_to_load_it(self, tmp_path, capsys):
        fixture = _write(
            tmp_path / "x.rulekit.json",
            '{\n  "rule": "zzz",\n  "cases": [{"resource": {"id": "a"}, "expect": "COMPLIANT"}]\n}',
        )
        assert main(["test", str(fixture)]) == 2
        assert (
            f"{fixture}:2: unknown rule 'zzz'; load its module with 'module:' in the file, "
            "-p MODULE, or an installed pack"
        ) in capsys.readouterr().out

    def test_json_syntax_errors_are_file_line_col(self, tmp_path, capsys):
        fixture = _write(tmp_path / "x.rulekit.json", '{\n  "rule": "a",\n  "cases": [}\n')
        assert main(["test", str(fixture)]) == 2
        assert capsys.readouterr().err == (f"rulekit test: {fixture}:3:13: Expecting value\n")

    def test_an_unstubbed_call_shows_the_yaml_to_add(self, tmp_path, capsys):
        fixture = _write(
            tmp_path / "owner.rulekit.yaml",
            "rule: ecs-instance-image-owner-system\ncases:\n"
            "  - {resource: {id: a, configuration: {ImageId: m}}, expect: COMPLIANT}\n",
        )
        assert main(["test", str(fixture)]) == 1
        assert (
            "  MissingStubError: the rule called Ecs.DescribeImages, which is not stubbed; add "
            "its recorded JSON response to the fixture (file or case), e.g.:\n"
            "  api:\n"
            "    Ecs:\n"
            "      DescribeImages: {...}   # the response body\n"
            "  (`rulekit fixture record` records the responses of a live run)\n"
        ) in capsys.readouterr().out

    @pytest.mark.parametrize(
        ("rtype", "hint"),
        [
            ("ACS::ECS::Instanse", "did you mean 'ACS::ECS::Instance'?"),
            ("ACS::Foo::Bar", "the rule's types are ACS::ECS::Instance"),
        ],
    )
    def test_an_unknown_resource_type_fails_the_case(self, tmp_path, capsys, rtype, hint):
        fixture = _write(
            tmp_path / "t.rulekit.yaml",
            "rule: ecs-instance-image-check\nparams: {imageIds: m-1}\ncases:\n"
            f"  - {{resource: {{id: i-1, type: '{rtype}'}}, expect: NOT_APPLICABLE}}\n",
        )
        assert main(["test", str(fixture)]) == 1
        assert (
            f"  RulekitError: unknown resource type '{rtype}' in 'resource'; {hint}\n"
        ) in capsys.readouterr().out


class TestParamsDefaults:
    def test_an_invalid_default_is_a_definition_error(self):
        from rulekit import Params, RuleDefinitionError, rule

        class Flags(Params):
            enabled: bool = "nope"

        line = sys._getframe().f_lineno + 3
        with pytest.raises(RuleDefinitionError) as caught:

            @rule(resource_type=INSTANCE, params=Flags)
            def flagged(resource, params):
                return "COMPLIANT"

        assert str(caught.value) == (
            f"rule 'flagged' ({__file__}:{line}): params model Flags: the default of 'enabled' "
            "(enabled) is 'nope', not a valid bool: Input should be a valid boolean, unable to "
            "interpret input"
        )

    def test_valid_defaults_in_platform_form_are_accepted_without_pydantic(self):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\nfrom rulekit import Params, rule\n"
                "class P(Params):\n    ids: list[str] = 'a,b'\n    on: bool = 'true'\n"
                "    n: int | None = None\n"
                "@rule(resource_type='ACS::ECS::Instance', params=P)\n"
                "def r(resource, params):\n    return 'COMPLIANT'\n"
                "print('pydantic' in sys.modules)\n",
            ],
            capture_output=True,
            text=True,
        )
        assert done.stdout.strip() == "False", done.stderr


COVERAGE_FIXTURES = {
    "python.rulekit.yaml": "rule: cov-python\nmodule: sample_plugins.coverage_pack\ncases:\n"
    "  - {resource: {id: a, configuration: {Ok: true}}, expect: COMPLIANT}\n",
    "condition.rulekit.yaml": "rule: cov-condition\nmodule: sample_plugins.coverage_pack\n"
    "cases:\n"
    "  - name: running with cpu\n"
    "    resource: {id: a, configuration: {Status: Running, Cpu: 4, Memory: 0}}\n"
    "    expect: COMPLIANT\n"
    "  - name: stopped\n"
    "    resource: {id: b, configuration: {Status: Stopped, Cpu: 4, Memory: 0}}\n"
    "    expect: NON_COMPLIANT\n",
}


class TestCoverage:
    def _fixtures(self, folder: Path) -> Path:
        folder.mkdir(exist_ok=True)
        for name, text in COVERAGE_FIXTURES.items():
            _write(folder / name, text)
        return folder

    def test_the_report_says_which_rules_lack_what(self, tmp_path, capsys):
        folder = self._fixtures(tmp_path / "fx")
        assert main(["test", str(folder), "--require-coverage"]) == 1
        out = capsys.readouterr().out
        # Only the pack under test (the fixtures' module), not the installed ecs/oss/ram packs.
        assert "rules without fixtures (1): cov-unfixtured\n" in out
        assert (
            "coverage required; missing for 3 rule(s):\n"
            "  cov-condition: clause 3 ($.Memory GreaterOrEquals 4096) never decided a case\n"
            "  cov-python: no passing NON_COMPLIANT case\n"
            "  cov-unfixtured: no fixture case\n"
            "3 passed, 0 failed\n"
        ) in out

    def test_complete_fixtures_satisfy_it(self, tmp_path, capsys):
        folder = self._fixtures(tmp_path / "fx")
        _write(
            folder / "more.rulekit.yaml",
            "rule: cov-condition\nmodule: sample_plugins.coverage_pack\ncases:\n"
            "  - resource: {id: c, configuration: {Status: Running, Cpu: 1, Memory: 8192}}\n"
            "    expect: COMPLIANT\n",
        )
        _write(
            folder / "py2.rulekit.yaml",
            "rule: cov-python\nmodule: sample_plugins.coverage_pack\ncases:\n"
            "  - {resource: {id: d, configuration: {Ok: false}}, expect: NON_COMPLIANT}\n",
        )
        _write(
            folder / "un.rulekit.yaml",
            "rule: cov-unfixtured\nmodule: sample_plugins.coverage_pack\ncases:\n"
            "  - {resource: {id: e}, expect: COMPLIANT}\n",
        )
        assert main(["test", str(folder), "--require-coverage"]) == 1  # cov-unfixtured: no NC
        assert "  cov-unfixtured: no passing NON_COMPLIANT case\n" in capsys.readouterr().out
        assert main(["test", str(folder), "--require-coverage", "-k", "not unfixtured"]) == 0
        out = capsys.readouterr().out
        assert "rules without fixtures" not in out and "coverage required" not in out

    def test_k_does_not_make_filtered_rules_uncovered(self, capsys):
        plugins = str(Path(__file__).parent.parent / "plugins")
        assert main(["test", plugins, "-k", "oss", "--require-coverage"]) == 0
        out = capsys.readouterr().out
        assert "rules without fixtures" not in out
        assert out.strip().splitlines()[-1] == "10 passed, 0 failed"

    def test_json_report_has_the_gaps(self, tmp_path, capsys):
        folder = self._fixtures(tmp_path / "fx")
        assert main(["test", str(folder), "--require-coverage", "--format", "json"]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["uncovered"] == ["cov-unfixtured"]
        assert data["coverage"]["cov-python"] == ["no passing NON_COMPLIANT case"]

    def test_deciding_clauses_is_unique_cause(self):
        from rulekit import Resource
        from rulekit.conditions import all_of, any_of, path
        from rulekit.testing._coverage import deciding_clauses

        group = all_of(path("$.A").equals(1), any_of(path("$.B").equals(1), path("$.C").equals(1)))

        def decided(config):
            return deciding_clauses(
                group,
                Resource(id="r", type=INSTANCE, region="r", account_id="1", configuration=config),
                {},
            )

        assert decided({"A": 1, "B": 1, "C": 0}) == [True, True, False]
        assert decided({"A": 1, "B": 1, "C": 1}) == [True, False, False]
        assert decided({"A": 0, "B": 1, "C": 0}) == [True, False, False]
        assert decided({"A": 1, "B": 0, "C": 0}) == [False, True, True]


class TestFixtureSchema:
    def _validator(self):
        import jsonschema

        schema = json.loads(
            Path(__import__("rulekit.testing", fromlist=["x"]).__file__)
            .with_name("fixture.schema.json")
            .read_text()
        )
        jsonschema.Draft202012Validator.check_schema(schema)
        return jsonschema.Draft202012Validator(schema)

    def test_every_shipped_and_scaffolded_fixture_validates(self, tmp_path):
        import yaml

        assert main(["new", "pack", "acme", "--dir", str(tmp_path)]) == 0
        repo = Path(__file__).parent.parent
        files = [*repo.glob("plugins/*/tests/fixtures/*.rulekit.yaml"), *tmp_path.rglob("*.yaml")]
        assert len(files) >= 14
        validator = self._validator()
        for file in files:
            errors = list(validator.iter_errors(yaml.safe_load(file.read_text())))
            assert not errors, (file, [e.message for e in errors])

    @pytest.mark.parametrize(
        "text",
        [
            "rule: r\ncases:\n  - {resource: {id: a}, expected: COMPLIANT}\n",
            "rule: r\ncases:\n  - {resource: {id: a}, expect: COMPLAINT}\n",
            "rule: r\nexpected: x\ncases:\n  - {resource: {id: a}, expect: COMPLIANT}\n",
            "rule: r\ncases:\n  - {resource: {id: a, type: 'ACS::ECS'}, expect: COMPLIANT}\n",
            "rule: r\ncases: []\n",
        ],
    )
    def test_it_rejects_what_rulekit_test_rejects(self, text):
        import yaml

        assert list(self._validator().iter_errors(yaml.safe_load(text)))

    def test_rulekit_new_names_the_installed_schema(self, tmp_path, capsys):
        args = ["new", "rule", "tagged", "--resource-type", INSTANCE, "--dir", str(tmp_path)]
        assert main(args) == 0
        first = (tmp_path / "tagged.rulekit.yaml").read_text().splitlines()[0]
        import rulekit.testing

        schema = Path(rulekit.testing.__file__).with_name("fixture.schema.json")
        assert first == f"# yaml-language-server: $schema={schema.as_uri()}"
        assert schema.is_file()

    def test_new_pack_depends_on_the_distribution_and_writes_an_event(self, tmp_path):
        assert main(["new", "pack", "acme", "--dir", str(tmp_path)]) == 0
        root = tmp_path / "rulekit-acme"
        assert 'dependencies = ["aliyun-config-rulekit"]' in (root / "pyproject.toml").read_text()
        event = json.loads((root / "tests" / "events" / "untagged.json").read_text())
        item = event["invokingEvent"]["configurationItem"]
        assert (item["resourceType"], item["resourceId"]) == (INSTANCE, "ecs-sample-2")


def test_the_pytest_plugin_shows_the_rules_traceback(pytester, monkeypatch):
    monkeypatch.setenv("RULEKIT_LOAD_PLUGINS", "")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    pytester.makefile(
        ".rulekit.yaml",
        helper="rule: raises-in-helper\nmodule: sample_plugins.computed_paths\ncases:\n"
        "  - {resource: {id: r-1, configuration: {Cpu: 1, Memory: 0}}, expect: COMPLIANT}\n",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*EvaluationError: rule 'raises-in-helper' (*computed_paths.py:*) raised "
            "ZeroDivisionError*",
            "Traceback (the rule's code):",
            '*File "*computed_paths.py", line *, in raises_in_helper',
            '*File "*computed_paths.py", line *, in _ratio',
            "ZeroDivisionError: division by zero",
        ]
    )
    assert "rulekit/_rule.py" not in result.stdout.str()


def test_the_pytest_plugin_reports_an_unknown_rule_once_per_file(pytester, monkeypatch):
    monkeypatch.setenv("RULEKIT_LOAD_PLUGINS", "oss")
    pytester.makefile(
        ".rulekit.yaml",
        typo="rule: oss-bucket-public-write-prohibitd\ncases:\n"
        "  - {resource: {id: a}, expect: COMPLIANT}\n  - {resource: {id: b}, expect: COMPLIANT}\n",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*typo.rulekit.yaml:1: unknown rule 'oss-bucket-public-write-prohibitd'; did you mean "
            "'oss-bucket-public-write-prohibited'?"
        ]
    )
