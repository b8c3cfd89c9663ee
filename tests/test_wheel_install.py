"""Install like a user (issue 14): the built wheel, not editable, no extras, in a fresh
virtualenv, then the commands of docs/cli.md's "From a plain install to a deployment" exactly as
printed there: new pack -> test -> invoke -> package -> export, and `rulekit emulator` with
`rulekit run` against it. Each output line the doc shows must appear, in order (ports, sizes and
file counts may differ; `...` stands for anything). Then every other subcommand once, and the
README's "Write, test, package" block as printed.

It needs the package index (pip resolves the dependencies and `rulekit package` downloads the
FC target's wheels); pip's cache makes reruns fast.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).parent.parent
SECTION = "## From a plain install to a deployment"


def _blocks() -> list[list[tuple[str, list[str]]]]:
    """The section's console blocks: (command, output lines shown) in order."""
    text = (REPO / "docs" / "cli.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else None]
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", section, re.S):
        commands: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
        blocks.append(commands)
    return blocks


def _normal(line: str) -> str:
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
    return re.sub(r"\d+(\.\d+)? MB, \d+ files", "N MB, N files", line).rstrip()


def _assert_shown(shown: list[str], actual: str) -> None:
    """Every line the doc shows appears in ``actual``, in order."""
    lines = [_normal(line) for line in actual.splitlines()]
    at = 0
    for expected in shown:
        if expected.strip() in ("", "..."):
            continue
        pattern = re.compile(
            ".*".join(re.escape(part) for part in _normal(expected).split("...")) + r"\Z"
        )
        for index in range(at, len(lines)):
            if pattern.match(lines[index]):
                at = index + 1
                break
        else:
            raise AssertionError(f"docs/cli.md shows {expected!r}; the output was:\n{actual}")


def _env() -> dict[str, str]:
    drop = ("RULEKIT_", "ALIBABA_CLOUD_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _script(commands: list[tuple[str, list[str]]]) -> str:
    lines = ["set -e"]
    for n, (command, _) in enumerate(commands):
        lines += [f"echo '@@@ {n}'", f"{command} 2>&1"]
    return "\n".join(lines)


def _wheel(tmp: Path) -> Path:
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "rulekit", source / "rulekit", ignore=shutil.ignore_patterns("__pycache__")
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp), str(source)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    [wheel] = tmp.glob("aliyun_config_rulekit-*.whl")
    return wheel


def test_the_documented_loop_from_a_wheel_install(tmp_path):
    install, emulator_block, run_block = _blocks()
    work = tmp_path / "work"
    work.mkdir()
    wheel = _wheel(tmp_path)
    assert wheel.name in install[0][0], "docs/cli.md installs the wheel by its file name"
    shutil.copy(wheel, work / wheel.name)
    env = {**_env(), "PYTHONUNBUFFERED": "1"}  # stdout and stderr interleave as printed

    done = subprocess.run(
        ["bash", "-c", _script(install)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    parts = re.split(r"^@@@ \d+\n", done.stdout, flags=re.M)[1:]
    for (_command, shown), part in zip(install, parts, strict=True):
        _assert_shown(shown, part)

    venv = work / ".venv"
    assert not list(venv.glob("lib/python*/site-packages/*.egg-link"))
    assert not list(venv.glob("lib/python*/site-packages/__editable__*")), "not editable"
    with zipfile.ZipFile(work / "deploy" / "rulekit-fc-py310.zip") as archive:
        names = set(archive.namelist())
    assert {"index.py", "rulekit/handler.py", "rulekit_acme/rules.py"} <= names
    assert not any(n.startswith(("yaml/", "_yaml/", "rulekit/_cli/")) for n in names)
    assert (work / "deploy" / "main.tf").exists()

    pack = work / "rulekit-acme"
    activate = f". {venv}/bin/activate && "
    [(emulator_command, emulator_shown)] = emulator_block
    emulator = subprocess.Popen(
        ["bash", "-c", activate + "exec " + emulator_command],
        cwd=pack,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert emulator.stdout is not None
    printed, exports = [], {}
    try:
        for line in emulator.stdout:
            printed.append(line)
            if line.strip().startswith("export "):
                key, _, value = line.strip()[len("export ") :].partition("=")
                exports[key] = value
            if "Ctrl-C stops it" in line:
                break
        [(run_command, run_shown)] = run_block
        ran = subprocess.run(
            ["bash", "-c", activate + run_command],
            cwd=pack,
            env={**env, **exports},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stderr
        _assert_shown(run_shown, ran.stdout)
        # Every other subcommand once, from the same plain install (YAML-writing ones too).
        others = [
            "rulekit -p rulekit_acme fixture record oss-sample-2 --type ACS::OSS::Bucket "
            "--region cn-hangzhou -o recorded.rulekit.yaml",
            "rulekit test recorded.rulekit.yaml",
            "rulekit -p rulekit_acme list",
            "rulekit demo",
            "rulekit export . --format ros -o ../deploy",
            "rulekit export . --format s-yaml -o ../deploy",
        ]
        more = subprocess.run(
            ["bash", "-c", activate + _script([(c, []) for c in others])],
            cwd=pack,
            env={**env, **exports},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert more.returncode == 0, more.stdout + more.stderr
        for shown in (
            "recorded ACS::OSS::Bucket oss-sample-2 as case 'recorded oss-sample-2' in "
            'recorded.rulekit.yaml (expect "NON_COMPLIANT")',
            "1 passed, 0 failed",
            "1 rule(s) from 1 pack(s)",
            "delivered 1 evaluation(s) in 1 PutEvaluations call(s)",
            "wrote ../deploy/template.ros.yaml",
            "wrote ../deploy/s.yaml",
        ):
            assert shown in more.stdout, more.stdout
        assert "Traceback" not in more.stdout + more.stderr
    finally:
        emulator.send_signal(signal.SIGINT)
        rest, err = emulator.communicate(timeout=30)
    assert emulator.returncode == 0, err
    _assert_shown(emulator_shown, "".join(printed) + rest)

    # The README's "Write, test, package" block, as printed, in a shell where the set-up's
    # activation put `rulekit` on PATH.
    readme = (REPO / "README.md").read_text()
    block = readme[readme.index("## Write, test, package") :]
    commands = re.search(r"```sh\n(.*?)```", block, re.S)
    assert commands is not None
    folder = work / "readme"
    folder.mkdir()
    quick = subprocess.run(
        ["bash", "-c", activate + "set -e\n" + commands.group(1)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert "3 passed, 0 failed" in quick.stdout
    assert (folder / "report.xml").exists() and (folder / "deploy" / "main.tf").exists()
    assert (folder / "deploy" / "rulekit-fc-py310.zip").exists()
