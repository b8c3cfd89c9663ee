"""rulekit run (a dry run against an account) and rulekit fixture record, against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rulekit._cli import main
from rulekit.testing import TEST_CREDENTIALS, ApiFailure, Throttle

INSTANCE = "ACS::ECS::Instance"


@pytest.fixture
def account(emulator, monkeypatch):
    for n in range(30):
        emulator.store.add(
            INSTANCE,
            f"i-bp1example{n:04d}",
            region="cn-hangzhou",
            configuration={
                "PublicIpAddress": {"IpAddress": ["47.1.1.1"] if n % 10 == 0 else []},
                "EipAddress": {"IpAddress": ""},
                "Cpu": 2 + n % 3,
            },
        )
    emulator.store.add(
        INSTANCE,
        "i-bp1otherregion01",
        region="cn-beijing",
        configuration={"PublicIpAddress": {"IpAddress": []}},
    )
    env = emulator.environ()
    for key in (
        "RULEKIT_ENDPOINT",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("RULEKIT_LOAD_PLUGINS", "ecs")
    monkeypatch.setenv("RULEKIT_RETRY_BASE_DELAY", "0.01")
    return emulator


class TestRun:
    def test_table_with_per_rule_totals_and_never_a_write(self, account, capsys):
        assert (
            main(
                [
                    "run",
                    "ecs-instance-no-public-ip",
                    "ecs-cpu-min-count-limit",
                    "--params",
                    "cpuCount=3",
                ]
            )
            == 0
        )
        out = capsys.readouterr().out
        lines = out.splitlines()
        assert lines[0].split() == [
            "RULE",
            "RESOURCES",
            "COMPLIANT",
            "NON_COMPLIANT",
            "NOT_APPLICABLE",
            "INSUFFICIENT_DATA",
            "ERRORS",
        ]
        assert lines[1].split() == ["ecs-instance-no-public-ip", "31", "28", "3", "0", "0", "0"]
        assert lines[2].split() == ["ecs-cpu-min-count-limit", "31", "20", "11", "0", "0", "0"]
        assert "i-bp1example0010" in out
        assert account.put_calls == [] and account.calls_of("PutEvaluations") == []

    def test_json_region_and_resource_filters(self, account, capsys):
        assert (
            main(
                [
                    "run",
                    "ecs-instance-no-public-ip",
                    "--region",
                    "cn-hangzhou",
                    "--resource-id",
                    "i-bp1example0020",
                    "--format",
                    "json",
                ]
            )
            == 0
        )
        data = json.loads(capsys.readouterr().out)
        [rule] = data["rules"]
        assert [ev["resourceId"] for ev in rule["evaluations"]] == ["i-bp1example0020"]
        assert rule["evaluations"][0]["complianceType"] == "NON_COMPLIANT"
        listing = account.calls_of("ListDiscoveredResources")[0]
        assert listing.params["Regions"] == "cn-hangzhou"

    def test_advanced_search_counts_are_shown_and_the_setting_is_honoured(
        self, account, capsys, monkeypatch
    ):
        assert main(["run", "ecs-cpu-min-count-limit", "--params", "cpuCount=3"]) == 0
        err = capsys.readouterr().err
        # 1 count and 1 page per region (2); Cpu is read from the rows, and only the instance
        # without one (every read null: missing, or unreadable to the index) is fetched
        assert "ecs-cpu-min-count-limit: advanced search: 30 resource(s) from 3 call(s), 1 " in err
        [fetched] = account.calls_of("GetDiscoveredResource")
        assert fetched.params["ResourceId"] == "i-bp1otherregion01"
        assert (
            main(["run", "ecs-cpu-min-count-limit", "--params", "cpuCount=3", "--format", "json"])
            == 0
        )
        [rule] = json.loads(capsys.readouterr().out)["rules"]
        assert rule["advancedSearch"] == {"calls": 3, "searched": 30, "fallbacks": 1}
        monkeypatch.setenv("RULEKIT_ADVANCED_SEARCH", "false")
        assert main(["run", "ecs-cpu-min-count-limit", "--params", "cpuCount=3"]) == 0
        assert "advanced search" not in capsys.readouterr().err
        assert len(account.calls_of("GetDiscoveredResource")) == 2 + 31

    def test_throttling_is_retried(self, account, capsys):
        account.script("ListDiscoveredResources", Throttle(), Throttle())
        assert main(["run", "ecs-instance-no-public-ip"]) == 0

    def test_an_api_error_is_one_line_and_exit_1(self, account, capsys):
        account.always(
            "ListDiscoveredResources", ApiFailure(status=403, code="NoPermission", message="denied")
        )
        assert main(["run", "ecs-instance-no-public-ip"]) == 1
        err = capsys.readouterr().err
        assert "NoPermission" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1

    def test_a_resource_the_rule_could_not_evaluate_exits_1(self, account, capsys):
        account.store.add(INSTANCE, "i-bp1broken000001", configuration='{"PublicIpAddress": ')
        assert main(["run", "ecs-instance-no-public-ip"]) == 1
        captured = capsys.readouterr()
        [row] = [line for line in captured.out.splitlines() if line.startswith("ecs-instance")]
        assert row.split()[-1] == "1"  # the ERRORS column
        assert "Traceback" not in captured.out + captured.err

    def test_missing_credentials_exit_2(self, account, monkeypatch, tmp_path, capsys):
        monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
        monkeypatch.setenv("ALIBABA_CLOUD_CONFIG_FILE", str(tmp_path / "none.json"))
        assert main(["run", "ecs-instance-no-public-ip"]) == 2
        assert "no credentials" in capsys.readouterr().err

    def test_a_cli_profile_is_used(self, account, monkeypatch, tmp_path, capsys):
        for key in (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
        ):
            monkeypatch.delenv(key)
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "current": "dev",
                    "profiles": [
                        {
                            "name": "dev",
                            "mode": "AK",
                            "access_key_id": "x",
                            "access_key_secret": "y",
                        },
                        {
                            "name": "audit",
                            "mode": "StsToken",
                            "region_id": "cn-hangzhou",
                            "access_key_id": TEST_CREDENTIALS.access_key_id,
                            "access_key_secret": TEST_CREDENTIALS.access_key_secret,
                            "sts_token": TEST_CREDENTIALS.security_token,
                        },
                    ],
                }
            )
        )
        monkeypatch.setenv("ALIBABA_CLOUD_CONFIG_FILE", str(config))
        assert main(["run", "ecs-instance-no-public-ip", "--profile", "audit"]) == 0
        assert account.calls[0].access_key_id == TEST_CREDENTIALS.access_key_id
        assert main(["run", "ecs-instance-no-public-ip", "--profile", "nope"]) == 2
        assert "profile 'nope'" in capsys.readouterr().err

    def test_bad_region_and_missing_parameters_exit_2(self, account, capsys):
        assert main(["run", "--region", "Hangzhou!"]) == 2
        assert main(["run", "ecs-instance-image-check"]) == 2
        err = capsys.readouterr().err
        assert "not a region id" in err and "imageIds" in err and "--params" in err

    def test_ctrl_c_prints_what_was_evaluated(self, account, capsys, monkeypatch):
        # 4 threads keep 16 resources in flight: fewer than the 31 listed (the default cap of
        # 16 would have them all in flight at once).
        monkeypatch.setenv("RULEKIT_SWEEP_CONCURRENCY", "4")
        assert main(["-p", "sample_plugins.interrupt", "run", "ecs-instance-no-public-ip"]) == 130
        captured = capsys.readouterr()
        assert "interrupted" in captured.err
        name, evaluated = captured.out.splitlines()[1].split()[:2]
        assert name == "ecs-instance-no-public-ip"
        assert 6 <= int(evaluated) < 31  # the resources in flight when Ctrl-C came, no more


class TestFixtureRecord:
    def test_records_a_live_resource_as_a_passing_masked_case(self, account, tmp_path, capsys):
        path = tmp_path / "recorded.rulekit.yaml"
        assert (
            main(
                [
                    "fixture",
                    "record",
                    "i-bp1example0010",
                    "--type",
                    INSTANCE,
                    "--rule",
                    "ecs-instance-no-public-ip",
                    "--region",
                    "cn-hangzhou",
                    "--mask",
                    "-o",
                    str(path),
                ]
            )
            == 0
        )
        assert (
            main(
                [
                    "fixture",
                    "record",
                    "i-bp1example0011",
                    "--type",
                    INSTANCE,
                    "--rule",
                    "ecs-instance-no-public-ip",
                    "--region",
                    "cn-hangzhou",
                    "-o",
                    str(path),
                ]
            )
            == 0
        )
        data = yaml.safe_load(path.read_text())
        masked, plain = data["cases"]
        assert masked["resource"]["id"] == "i-masked0001"
        assert masked["resource"]["account_id"] == "1000000000000000"
        assert "i-bp1example0010" not in path.read_text()
        assert (masked["expect"], plain["expect"]) == ("NON_COMPLIANT", "COMPLIANT")
        assert main(["test", str(path)]) == 0
        assert capsys.readouterr().out.strip().splitlines()[-1] == "2 passed, 0 failed"

    def test_an_unknown_resource_is_one_line(self, account, tmp_path, capsys):
        assert (
            main(
                [
                    "fixture",
                    "record",
                    "i-none",
                    "--type",
                    INSTANCE,
                    "--rule",
                    "ecs-instance-no-public-ip",
                    "--region",
                    "cn-hangzhou",
                    "-o",
                    str(tmp_path / "x.rulekit.yaml"),
                ]
            )
            == 1
        )
        assert "ResourceNotExists" in capsys.readouterr().out

    def test_the_rule_must_be_clear(self, account, capsys):
        assert main(["fixture", "record", "i-1", "--type", INSTANCE, "--region", "r"]) == 2
        assert "pass --rule" in capsys.readouterr().err


def test_run_never_calls_put_evaluations_from_a_subprocess(account):
    env = {**os.environ}
    done = subprocess.run(
        [sys.executable, "-m", "rulekit", "run", "ecs-instance-no-public-ip", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rules"][0]["resources"] == 31
    assert account.calls_of("PutEvaluations") == []


class TestFixtureRecordApiCalls:
    def test_the_rules_api_responses_become_stubs_and_the_module_is_named(
        self, account, tmp_path, capsys, monkeypatch
    ):
        account.store.add(
            INSTANCE, "i-bp1calls0000001", region="cn-hangzhou", configuration={"ImageId": "m-9"}
        )
        account.stub(
            "Ecs",
            "DescribeImages",
            {"Images": {"Image": [{"ImageId": "m-9", "ImageOwnerAlias": "self"}]}},
        )
        path = tmp_path / "owner.rulekit.yaml"
        args = ["fixture", "record", "i-bp1calls0000001", "--type", INSTANCE]
        args += ["--rule", "ecs-instance-image-owner-system", "--region", "cn-hangzhou"]
        assert main([*args, "-o", str(path)]) == 0
        out = capsys.readouterr().out
        assert '(expect "NON_COMPLIANT"; 1 API response(s) as stubs)' in out
        data = yaml.safe_load(path.read_text())
        assert data["module"] == "rulekit_ecs"
        [case] = data["cases"]
        assert case["api"] == {
            "Ecs": {
                "DescribeImages": {
                    "Images": {"Image": [{"ImageId": "m-9", "ImageOwnerAlias": "self"}]}
                }
            }
        }
        assert case["expect"] == "NON_COMPLIANT"
        # The file passes `rulekit test` as written: no pack loaded, no -p, no emulator.
        monkeypatch.setenv("RULEKIT_LOAD_PLUGINS", "")
        for key in ("RULEKIT_ENDPOINT", "ALIBABA_CLOUD_ACCESS_KEY_ID"):
            monkeypatch.delenv(key)
        assert main(["test", str(path)]) == 0
        assert capsys.readouterr().out.strip().splitlines()[-1] == "1 passed, 0 failed"

    def test_masking_applies_to_the_recorded_responses_too(self, account, tmp_path, capsys):
        account.store.add(
            INSTANCE,
            "i-bp1calls0000002",
            region="cn-hangzhou",
            configuration={"ImageId": "m-bp1image000001"},
        )
        account.stub(
            "Ecs",
            "DescribeImages",
            {"Images": {"Image": [{"ImageId": "m-bp1image000001", "ImageOwnerAlias": "system"}]}},
        )
        path = tmp_path / "masked.rulekit.yaml"
        args = ["fixture", "record", "i-bp1calls0000002", "--type", INSTANCE, "--mask"]
        args += ["--rule", "ecs-instance-image-owner-system", "--region", "cn-hangzhou"]
        assert main([*args, "-o", str(path)]) == 0
        text = path.read_text()
        assert "m-bp1image000001" not in text and "i-bp1calls0000002" not in text
        [case] = yaml.safe_load(text)["cases"]
        image = case["resource"]["configuration"]["ImageId"]
        assert image.startswith("m-masked")
        assert case["api"]["Ecs"]["DescribeImages"]["Images"]["Image"][0]["ImageId"] == image
        assert case["expect"] == "COMPLIANT"
        assert main(["test", str(path)]) == 0
