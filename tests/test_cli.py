"""The rulekit command: the README's demo runs the real handler against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import DATA

from rulekit.cli import main


def _rulekit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rulekit", *args], capture_output=True, text=True, timeout=60
    )


def test_demo_runs_the_example_rule_on_the_embedded_event():
    done = _rulekit("demo")
    assert done.returncode == 0, done.stderr
    assert "rule ecs-instance-image-check" in done.stdout
    assert "i-bp1sample0001 (cn-hangzhou): NON_COMPLIANT" in done.stdout
    assert "delivered 1 evaluation(s) in 1 PutEvaluations call(s)" in done.stdout


def test_demo_on_an_event_file_prints_the_summary_as_json(capsys):
    code = main(["demo", "--event", str(DATA / "events" / "change-ecs-instance.json"), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    summary = json.loads(out[out.index("{") :])
    assert summary["compliance"] == {"COMPLIANT": 1}


def test_demo_on_a_malformed_event_exits_1_with_one_clear_line(capsys):
    code = main(["demo", "--event", str(DATA / "events" / "faq-scheduled-ram-user.json")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("rulekit demo: EventError: the configuration of ACS::RAM::User")
    assert "Traceback" not in err


def test_demo_on_a_missing_file_says_so(tmp_path: Path):
    done = _rulekit("demo", "--event", str(tmp_path / "nope.json"))
    assert done.returncode != 0
    assert "cannot read" in done.stderr and "Traceback" not in done.stderr
