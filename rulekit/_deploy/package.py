"""Build a Function Compute code package: rulekit, rule packs and every runtime dependency, as
wheels for Linux x86_64 and the target Python, unpacked into one zip with ``index.py`` so the FC
handler setting is ``index.handler``.

pip resolves the dependencies for the *target* platform (``--platform manylinux*_x86_64
--python-version X.Y --only-binary=:all:``), so compiled wheels (pydantic-core, cryptography) are
the ones FC needs, never the build machine's. What imports do not need is left out: the CLI and
test helpers, CLI-only dependencies, ``bin/``, caches, and dist-info files other than METADATA,
entry_points.txt and licenses. The packs' entry points are resolved here, with importlib.metadata,
and written to ``rulekit/entry_points.json``: the function imports the modules it names and never
scans distribution metadata on a cold start.

Example::

    result = build_package(["plugins/ecs"], "3.10", Path("dist"))
    result.path, result.size       # dist/rulekit-fc-py310.zip, 9_800_000
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .._errors import ConfigurationError
from .._plugins import ENTRY_POINT_GROUP, PACKAGED_ENTRY_POINTS, _normalise
from .packs import _project_dir, resolve_packs

__all__ = ["FC_PYTHONS", "PackageResult", "build_package"]

#: The Python versions Function Compute offers for this kind of function.
FC_PYTHONS = ("3.10", "3.12")
_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
# Parts of rulekit the FC runtime never imports.
_RUNTIME_EXCLUDE = (
    "rulekit/_cli",
    "rulekit/testing",
    "rulekit/pytest_plugin.py",
    "rulekit/_deploy",
    "rulekit/_lint.py",
    "rulekit/__main__.py",  # (`python -m rulekit` is the CLI, which the zip does not hold)
)
#: The distribution rulekit is published as (the import package and the CLI are ``rulekit``).
DISTRIBUTION = "aliyun-config-rulekit"
# Dependencies of rulekit's command line only (YAML fixtures, ROS / s.yaml export): FC never
# imports them, so they stay out of the zip.
_CLI_ONLY_DISTRIBUTIONS = ("PyYAML",)
_DIST_INFO_KEEP = re.compile(r"^(METADATA|entry_points\.txt|LICENSE.*|COPYING.*|licenses/.*)$")

INDEX = '''"""Function Compute entry point written by `rulekit package`: handler = index.handler."""

from rulekit.handler import handler

__all__ = ["handler"]
'''


@dataclass
class PackageResult:
    path: Path
    size: int
    python: str
    distributions: list[str] = field(default_factory=list)
    files: int = 0
    compiled: bool = False  # .pyc for the target Python are in the zip


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` on this machine (this one, PATH, or pyenv), or None."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    candidates = [
        shutil.which(f"python{version}"),
        *map(str, sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(
            tuple(map(int, version.split(".")))
        ):
            return candidate
    return None


def _compile(stage: Path, python: str | None) -> bool:
    """Precompile for the target Python with unchecked-hash pycs (PEP 552): FC's code folder is
    read-only, so without them every cold start compiles every module again."""
    if python is None:
        return False
    # Reproducible bytes: paths as FC sees them (/code/...), and a fixed hash seed so frozenset
    # constants marshal in one order.
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(stage),
        "-p",
        "/code",
        str(stage),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    return done.returncode == 0


def _rulekit_source() -> Path | None:
    """The rulekit project folder when rulekit runs from a source checkout (editable install)."""
    import rulekit

    root = Path(rulekit.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.exists() and re.search(
        rf'^name\s*=\s*"{DISTRIBUTION}"', pyproject.read_text(), re.M
    ):
        return root
    return _project_dir(DISTRIBUTION) or _wheel_file(DISTRIBUTION)


def _wheel_file(dist_name: str) -> Path | None:
    """The wheel file a distribution was installed from (``pip install x.whl``), if it is still
    there: a build that is not on the index yet is packaged from the same file."""
    try:
        text = metadata.distribution(dist_name).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    url = json.loads(text).get("url", "") if text else ""
    path = Path(url[len("file://") :]) if url.startswith("file://") else None
    return path if path is not None and path.suffix == ".whl" and path.is_file() else None


def _pip(args: Sequence[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise ConfigurationError(f"pip {args[0]} failed:\n{tail}")


def _drop_distribution(stage: Path, name: str) -> None:
    """Delete every file an installed distribution's RECORD lists (and its dist-info)."""
    prefix = re.sub(r"[-_.]+", "_", name).lower()
    for info in stage.glob("*.dist-info"):
        if info.name[: -len(".dist-info")].lower().rsplit("-", 1)[0] != prefix:
            continue
        record = info / "RECORD"
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        for line in lines:
            target = stage / line.split(",", 1)[0]
            if target.is_file() and stage.resolve() in target.resolve().parents:
                target.unlink()
        for folder in sorted(stage.iterdir()):
            if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
                shutil.rmtree(folder)
        shutil.rmtree(info, ignore_errors=True)


def _trim(stage: Path) -> None:
    for name in _CLI_ONLY_DISTRIBUTIONS:
        _drop_distribution(stage, name)
    for rel in _RUNTIME_EXCLUDE:
        target = stage / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shutil.rmtree(stage / "bin", ignore_errors=True)
    for cache in list(stage.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    for info in stage.glob("*.dist-info"):
        for item in sorted(info.rglob("*"), reverse=True):
            rel = item.relative_to(info).as_posix()
            if item.is_file() and not _DIST_INFO_KEEP.match(rel):
                item.unlink()
            elif item.is_dir() and not any(item.iterdir()):
                item.rmdir()


def _write_entry_points(stage: Path) -> None:
    """``rulekit/entry_points.json``: every ``rulekit`` entry point of the distributions in
    ``stage``, as ``[name, "module[:attr]", distribution]``, ordered as the CLI orders them."""
    found = [
        (ep.name, ep.value, dist.metadata["Name"])
        for dist in metadata.distributions(path=[str(stage)])
        for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP)
    ]
    found.sort(key=lambda ep: _normalise(ep[2]))  # stable: declaration order kept
    target = stage / "rulekit" / Path(PACKAGED_ENTRY_POINTS).name
    lines = ",\n".join(json.dumps(ep) for ep in found)  # one entry point a line
    target.write_text(f"[\n{lines}\n]\n" if found else "[]\n", encoding="utf-8")


def _zip(stage: Path, path: Path) -> int:
    files = sorted(p for p in stage.rglob("*") if p.is_file())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.relative_to(stage).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())  # fixed dates: reproducible zips
    return len(files)


#: Left out of the copy a local project is built from: VCS data, environments, caches, and the
#: build/ and *.egg-info a setuptools build writes into its source folder.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "*.zip"
)


def _copy_project(source: Path, target: Path) -> str:
    """A copy of a local project to build from, so building leaves the user's folder as it was
    (setuptools writes build/ and <name>.egg-info next to the sources)."""
    shutil.copytree(source, target, ignore=_NOT_SOURCE, symlinks=True)
    return str(target)


def build_package(
    packs: Sequence[str], python: str, out_dir: Path, *, rulekit_source: Path | None = None
) -> PackageResult:
    """Build ``<out_dir>/rulekit-fc-py<XY>.zip`` for ``python`` (e.g. "3.10")."""
    if not re.fullmatch(r"3\.\d{2}", python) or int(python.split(".")[1]) < 10:
        raise ConfigurationError(
            f"--python must be 3.10 or later (FC offers {FC_PYTHONS}), got {python!r}"
        )
    source = rulekit_source or _rulekit_source()
    rulekit_req = str(source) if source else f"{DISTRIBUTION}=={metadata.version(DISTRIBUTION)}"
    requirements = [rulekit_req, *(pack.requirement for pack in resolve_packs(packs))]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"rulekit-fc-py{python.replace('.', '')}.zip"
    with tempfile.TemporaryDirectory(prefix="rulekit-package-") as tmp:
        wheels, stage = Path(tmp) / "wheels", Path(tmp) / "stage"
        local = [r for r in requirements if os.path.isdir(r)]
        if local:  # local projects: pure-Python wheels of our own, built from copies here
            copies = [
                _copy_project(Path(r), Path(tmp) / "src" / str(n)) for n, r in enumerate(local)
            ]
            _pip(["wheel", "--no-deps", "--quiet", "-w", str(wheels), *copies])
        targets = [str(w) for w in sorted(wheels.glob("*.whl"))] if local else []
        targets += [r for r in requirements if not os.path.isdir(r)]
        platform_args = [arg for p in _PLATFORMS for arg in ("--platform", p)]
        _pip(
            [
                "install",
                "--quiet",
                "--no-compile",
                "--target",
                str(stage),
                "--only-binary=:all:",
                "--implementation",
                "cp",
                "--python-version",
                python,
                *platform_args,
                *targets,
            ]
        )
        _trim(stage)
        _write_entry_points(stage)
        (stage / "index.py").write_text(INDEX)
        compiled = _compile(stage, find_python(python))
        dists = sorted(p.name[: -len(".dist-info")] for p in stage.glob("*.dist-info"))
        count = _zip(stage, path)
    return PackageResult(path, path.stat().st_size, python, dists, count, compiled)
