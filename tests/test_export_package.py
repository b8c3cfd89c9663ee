"""``rulekit package`` and ``rulekit export`` agree: the same PACK arguments and default set, the
zip checked at export time, and the README's write-package-export commands giving a function
that runs, isolated, with exactly the environment its template sets."""

from __future__ import annotations

import shlex
import sys
import zipfile
from pathlib import Path

import pytest
from fc_runner import invoke_package
from template_reference import terraform_resources, validate_terraform

from rulekit import ConfigurationError
from rulekit._cli import main
from rulekit._deploy.package import find_python
from rulekit._deploy.packs import check_package, resolve_packs
from rulekit.testing import ConfigEmulator, change_event

REPO = Path(__file__).parent.parent


# The FC Python 3.10 runtime's side: index.handler(event bytes, context with STS credentials).
def _readme_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Write, test, package", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0]) for line in block.strip().splitlines()]


def _unquote(value):
    return value[1:-1] if isinstance(value, str) and value[:1] == '"' else value


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder to run the README's commands in; the pack's module is forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    from rulekit._loader import _DEFINED  # the rules each imported module defined

    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("rulekit_acme")]:
        del sys.modules[name]
    for name in [n for n in _DEFINED if n.startswith("rulekit_acme")]:
        del _DEFINED[name]


def _fake_zip(path: Path, dist: str, entry_points: dict[str, str]) -> Path:
    lines = "[rulekit]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{dist}.dist-info/entry_points.txt", lines)
        archive.writestr("index.py", "")
    return path


def test_the_readme_commands_give_a_zip_and_templates_that_agree(workdir, capsys):
    python = find_python("3.10")
    assert python is not None, "the FC runtime's Python 3.10 is needed to run the package"
    # The README's own commands: write, test, package, export.
    commands = _readme_commands()
    assert [c[1] for c in commands] == ["new", "test", "package", "export"]
    for command in commands:
        assert main(command[1:]) == 0, command
    assert "checked: deploy/rulekit-fc-py310.zip holds the packs" in capsys.readouterr().out

    text = (workdir / "deploy" / "main.tf").read_text()
    assert validate_terraform(text) == []
    resources = terraform_resources(text)
    function = resources[("alicloud_fcv3_function", "rulekit")]
    environment = {k: _unquote(v) for k, v in function["environment_variables"].items()}
    assert environment == {"RULEKIT_LOAD_PLUGINS": "acme"}  # not the installed example packs
    rules = [b for (kind, _), b in resources.items() if kind == "alicloud_config_rule"]
    assert [_unquote(r["rule_name"]) for r in rules] == ["acme-required-tag"]
    parameters = {k: _unquote(v) for k, v in rules[0]["input_parameters"].items()}

    code = workdir / "code"
    with zipfile.ZipFile(workdir / "deploy" / "rulekit-fc-py310.zip") as archive:
        archive.extractall(code)
    with ConfigEmulator() as emulator:
        # Exactly the template's variables; the endpoint override only points the SDK here.
        env = {**environment, "RULEKIT_ENDPOINT": emulator.url}
        event = change_event(
            "ACS::OSS::Bucket", "bucket-1", {}, tags={}, rule_parameters=parameters
        )
        summary, _ = invoke_package(python, code, event, env)
        assert summary["rule"] == "acme-required-tag"
        assert summary["delivered"] == 1
        [evaluation] = emulator.evaluations
    assert evaluation["complianceType"] == "NON_COMPLIANT"
    assert evaluation["complianceResourceId"] == "bucket-1"


def test_export_refuses_a_zip_without_the_packs_it_loads(workdir):
    assert main(["new", "pack", "acme", "--resource-type", "ACS::OSS::Bucket"]) == 0
    packs = resolve_packs(["rulekit-acme"])
    other = _fake_zip(workdir / "other.zip", "rulekit_ecs-0.1.0", {"ecs": "rulekit_ecs"})
    with pytest.raises(ConfigurationError, match=r"does not hold the pack\(s\) \['acme'\]"):
        check_package(other, packs)
    stale = _fake_zip(workdir / "stale.zip", "rulekit_acme-0.0.9", {"acme": "rulekit_acme"})
    with pytest.raises(ConfigurationError, match="holds rulekit-acme 0.0.9.*from 0.1.0"):
        check_package(stale, packs)
    argv = ["export", "rulekit-acme", "--format", "terraform", "-o", "out", "--package"]
    assert main([*argv, str(other)]) == 2  # a zip that lacks the packs: the input to fix
    assert not (workdir / "out" / "main.tf").exists()
    good = _fake_zip(workdir / "good.zip", "rulekit_acme-0.1.0", {"acme": "rulekit_acme"})
    assert main([*argv, str(good)]) == 0


def test_export_checks_the_packs_the_function_loads_from_its_entry_points_json(workdir):
    # The function loads what rulekit/entry_points.json lists, not every dist-info in the zip:
    # export's check reads the same list, and a damaged one is refused, not a traceback (walk2).
    assert main(["new", "pack", "acme", "--resource-type", "ACS::OSS::Bucket"]) == 0
    packs = resolve_packs(["rulekit-acme"])
    zip_path = _fake_zip(workdir / "code.zip", "rulekit_acme-0.1.0", {"acme": "rulekit_acme"})
    check_package(zip_path, packs)  # no list (an older rulekit): the dist-info decide
    for listed, problem in (
        ('[["ecs", "rulekit_ecs", "rulekit-ecs"]]', r"does not hold the pack\(s\) \['acme'\]"),
        ('{"acme": "rulekit_acme"}', "not a readable code package: .*entry_points.json.*list"),
        ("[[[", "not a readable code package: .*entry_points.json .*not valid JSON"),
    ):
        with zipfile.ZipFile(zip_path, "a") as archive:
            archive.writestr("rulekit/entry_points.json", listed)
        with pytest.raises(ConfigurationError, match=problem):
            check_package(zip_path, packs)
        zip_path = _fake_zip(zip_path, "rulekit_acme-0.1.0", {"acme": "rulekit_acme"})
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr("rulekit/entry_points.json", '[["acme", "rulekit_acme", "rulekit-acme"]]')
    check_package(zip_path, packs)


def test_export_reads_a_zip_bomb_entry_points_json_only_up_to_its_limit(workdir):
    import tracemalloc

    assert main(["new", "pack", "acme", "--resource-type", "ACS::OSS::Bucket"]) == 0
    packs = resolve_packs(["rulekit-acme"])
    zip_path = _fake_zip(workdir / "bomb.zip", "rulekit_acme-0.1.0", {"acme": "rulekit_acme"})
    with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("rulekit/entry_points.json", b" " * 200_000_000)  # ~200 kB deflated
    tracemalloc.start()
    try:
        with pytest.raises(ConfigurationError, match="entry_points.json .*larger than 1000000"):
            check_package(zip_path, packs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # what it reads, not the 200 MB the entry inflates to


def test_export_takes_packs_not_modules(workdir, capsys):
    assert main(["-p", "rulekit_acme", "export", "--format", "terraform"]) == 2
    assert "export takes packs as arguments" in capsys.readouterr().err


def test_package_and_export_default_to_the_same_installed_packs(workdir):
    packs = resolve_packs([])
    assert sorted(p.dist_name for p in packs) == ["rulekit-ecs", "rulekit-oss", "rulekit-ram"]
    assert {p.requirement for p in packs} == {
        str(REPO / "plugins" / name) for name in ("ecs", "oss", "ram")
    }
    assert main(["export", "--format", "terraform", "-o", "out"]) == 0
    text = (workdir / "out" / "main.tf").read_text()
    function = terraform_resources(text)[("alicloud_fcv3_function", "rulekit")]
    assert _unquote(function["environment_variables"]["RULEKIT_LOAD_PLUGINS"]) == "ecs,oss,ram"


def test_a_pack_named_by_entry_point_or_distribution_is_the_same_pack():
    by_entry_point, by_dist, by_folder = (
        resolve_packs([spec])[0] for spec in ("ecs", "rulekit-ecs", str(REPO / "plugins" / "ecs"))
    )
    assert by_entry_point.requirement == by_dist.requirement == by_folder.requirement
    assert by_folder.entry_points == by_dist.entry_points == (("ecs", "rulekit_ecs"),)
    with pytest.raises(ConfigurationError, match="not a pack folder"):
        resolve_packs(["no-such-pack"])
