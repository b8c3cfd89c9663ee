"""rulekit package: the zip runs the handler with nothing but itself on sys.path."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
from fc_runner import invoke_package

from rulekit._deploy.package import build_package, find_python
from rulekit.testing import ConfigEmulator, change_event

REPO = Path(__file__).parent.parent
PACKS = [str(REPO / "plugins" / name) for name in ("ecs", "oss", "ram")]
CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    return {}


def _package(packages: dict[str, Path], tmp_path_factory, version: str) -> Path:
    if version not in packages:
        out = tmp_path_factory.mktemp(f"pkg{version}")
        packages[version] = build_package(PACKS, version, out).path
    return packages[version]


def _run_isolated(python: str, zip_path: Path, tmp_path: Path) -> tuple[dict, list[str], list]:
    code = tmp_path / "code"
    code.mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(code)
    with ConfigEmulator() as emulator:
        env = emulator.environ(RULEKIT_RULE="ecs-instance-no-public-ip")
        env.pop("RULEKIT_LOAD_PLUGINS")  # the packaged packs load through their entry points
        event = change_event(
            "ACS::ECS::Instance",
            "i-1",
            {"PublicIpAddress": {"IpAddress": ["47.1.1.1"]}, "EipAddress": {"IpAddress": ""}},
        )
        summary, modules = invoke_package(python, code, event, env)
        return summary, modules, list(emulator.evaluations)


@pytest.mark.parametrize("version", ["3.10", CURRENT, "3.12"])
def test_the_package_runs_the_handler_isolated(version, packages, tmp_path_factory, tmp_path):
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} interpreter on this machine")
    zip_path = _package(packages, tmp_path_factory, version)
    summary, modules, evaluations = _run_isolated(python, zip_path, tmp_path)
    assert summary["delivered"] == 1
    assert evaluations[0]["complianceType"] == "NON_COMPLIANT"
    assert "yaml" not in modules and "pytest" not in modules  # no CLI or test dependencies
    assert not [m for m in modules if m.startswith(("rulekit._cli", "rulekit._deploy"))]
    assert not [m for m in modules if m.startswith(("rulekit.testing", "rulekit._lint"))]
    # the packs come from the entry points resolved at build time: no metadata scan
    assert "rulekit_ecs" in modules and "importlib.metadata" not in modules


def test_the_package_leaves_out_what_imports_do_not_need(packages, tmp_path_factory):
    zip_path = _package(packages, tmp_path_factory, CURRENT)
    names = zipfile.ZipFile(zip_path).namelist()
    assert "index.py" in names
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    compiled = [n for n in names if n.endswith(".pyc")]
    assert compiled and all(f".{tag}.pyc" in n for n in compiled)  # target Python's only
    assert "rulekit/__pycache__/handler." + tag + ".pyc" in names
    assert not [n for n in names if n.endswith("/RECORD")]
    assert not [n for n in names if n.startswith(("bin/", "yaml/", "_pytest/", "hcl2/"))]
    assert not [
        n for n in names if n.startswith(("rulekit/_cli/", "rulekit/_deploy/", "rulekit/testing/"))
    ]
    assert not [
        n for n in names if n.startswith(("rulekit/__main__.", "rulekit/__pycache__/__main__"))
    ]
    assert "rulekit_ecs-0.1.0.dist-info/entry_points.txt" in names
    assert "rulekit/_search_columns.json" in names  # advanced-search sweeps need it at run time
    packaged = json.loads(zipfile.ZipFile(zip_path).read("rulekit/entry_points.json"))
    assert packaged == [
        ["ecs", "rulekit_ecs", "rulekit-ecs"],
        ["oss", "rulekit_oss", "rulekit-oss"],
        ["ram", "rulekit_ram", "rulekit-ram"],
    ]
    compiled = [n for n in names if n.endswith(".so")]
    assert compiled and all("x86_64-linux-gnu" in n or "abi3" in n for n in compiled)
    assert zip_path.stat().st_size < 15_000_000


def test_the_package_carries_neither_the_sdk_nor_its_cryptography(packages, tmp_path_factory):
    # rulekit signs its requests itself (rulekit/_signing.py): aliyun-python-sdk-core, and the
    # cryptography wheels it pulls in (~20 MB unpacked), are the tests' reference only.
    zip_path = _package(packages, tmp_path_factory, CURRENT)
    tops = {name.split("/", 1)[0] for name in zipfile.ZipFile(zip_path).namelist()}
    assert not tops & {"aliyunsdkcore", "cryptography", "cffi", "pycparser", "jmespath"}
    assert "rulekit" in tops and "pydantic" in tops


def test_the_zip_is_reproducible(packages, tmp_path_factory):
    first = _package(packages, tmp_path_factory, CURRENT)
    again = build_package(PACKS, CURRENT, tmp_path_factory.mktemp("again")).path
    assert first.read_bytes() == again.read_bytes()


def test_bad_python_versions_are_refused(tmp_path):
    from rulekit import ConfigurationError

    with pytest.raises(ConfigurationError, match="3.10 or later"):
        build_package(PACKS, "3.9", tmp_path)
    with pytest.raises(ConfigurationError, match="not a pack folder"):
        build_package(["no-such-pack-anywhere"], CURRENT, tmp_path)


def test_packaging_leaves_the_pack_folder_as_it_was(tmp_path):
    # setuptools writes build/ and <name>.egg-info beside the sources it builds; a user's pack
    # folder then showed the pack as installed after pip uninstall (new-user walkthrough).
    import shutil

    pack = tmp_path / "rulekit-ram"
    shutil.copytree(
        REPO / "plugins" / "ram", pack, ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    before = sorted(p.relative_to(pack) for p in pack.rglob("*"))
    build_package([str(pack)], "3.10", tmp_path / "out")
    assert sorted(p.relative_to(pack) for p in pack.rglob("*")) == before


def test_the_packs_entry_points_are_resolved_at_build_time(tmp_path, monkeypatch):
    from rulekit._deploy.package import _write_entry_points
    from rulekit._plugins import installed_entry_points

    (tmp_path / "rulekit").mkdir()
    for dirname, name, text in (
        ("zeta_pack-1.0.dist-info", "zeta-pack", "[rulekit]\nz2 = zeta.b:RULES\nz1 = zeta.a\n"),
        ("alpha-2.0.dist-info", "alpha", "[console_scripts]\nx = y:z\n[rulekit]\na = alpha\n"),
        ("plain-1.0.dist-info", "plain", None),
    ):
        info = tmp_path / dirname
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1\n")
        if text:
            (info / "entry_points.txt").write_text(text)
    _write_entry_points(tmp_path)
    listed = tmp_path / "rulekit" / "entry_points.json"
    expected = [
        ("a", "alpha", "alpha"),
        ("z2", "zeta.b:RULES", "zeta-pack"),
        ("z1", "zeta.a", "zeta-pack"),
    ]
    assert [tuple(ep) for ep in json.loads(listed.read_text())] == expected
    monkeypatch.setattr("rulekit._plugins.PACKAGED_ENTRY_POINTS", str(listed))
    assert installed_entry_points() == expected  # what the function will load, in this order
