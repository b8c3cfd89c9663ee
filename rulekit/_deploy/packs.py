"""Which rule packs a deployment holds, resolved once for ``rulekit package`` and
``rulekit export`` so that the zip and the templates name the same packs.

A PACK argument is a pack folder (with a ``pyproject.toml`` declaring
``[project.entry-points.rulekit]``), an installed pack's entry-point name, or an installed
distribution's name; no argument means every installed pack. The function finds its packs at run
time through their entry points, allowed by ``RULEKIT_LOAD_PLUGINS`` (the entry-point names), so
the templates set exactly the entry points of the packs the zip holds; ``check_package`` refuses a
zip that lacks one of them or holds another version of its distribution.

Example::

    packs = resolve_packs(["plugins/ecs"])
    [p.entry_point_names for p in packs]       # [('ecs',)]
    load_plugins(packs).rules                   # the ecs pack's rules, nothing else
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .._errors import ConfigurationError, PluginError
from .._plugins import (
    ENTRY_POINT_GROUP,
    MAX_PACKAGED_BYTES,
    PACKAGED_ENTRY_POINTS,
    Plugins,
    _normalise,
    installed_entry_points,
    packaged_entry_points,
)

__all__ = ["PackSource", "check_package", "load_plugins", "resolve_packs"]


@dataclass(frozen=True)
class PackSource:
    """One pack to deploy: the distribution that carries it and its ``rulekit`` entry points."""

    spec: str  # as the user gave it (or the distribution name, for the default set)
    dist_name: str
    version: str | None
    entry_points: tuple[tuple[str, str], ...]  # (entry-point name, "module[:attr]")
    folder: Path | None = None  # a local project, built from source

    @property
    def entry_point_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.entry_points)

    @property
    def requirement(self) -> str:
        """What pip installs for this pack."""
        if self.folder is not None:
            return str(self.folder)
        local = _project_dir(self.dist_name)
        if local is not None:
            return str(local)
        return f"{self.dist_name}=={self.version}" if self.version else self.dist_name


def _toml_section(text: str, headers: Iterable[str]) -> list[tuple[str, str]]:
    """``key = "value"`` lines of one TOML table. The pyproject tables packs use are flat
    string tables; Python 3.10 has no tomllib, and rulekit adds no dependency for this."""
    wanted = {h.replace(" ", "") for h in headers}
    out: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            inside = line.replace(" ", "") in wanted
            continue
        if inside:
            match = re.fullmatch(r'"?([^"=]+?)"?\s*=\s*"([^"]*)"\s*(#.*)?', line)
            if match:
                out.append((match.group(1).strip(), match.group(2)))
    return out


def _folder_pack(spec: str, folder: Path) -> PackSource:
    pyproject = folder / "pyproject.toml"
    if not pyproject.exists():
        raise ConfigurationError(f"{spec}: a pack folder needs a pyproject.toml")
    text = pyproject.read_text(encoding="utf-8")
    project = dict(_toml_section(text, ["[project]"]))
    if "name" not in project:
        raise ConfigurationError(f"{pyproject}: [project] has no name")
    entry_points = tuple(
        _toml_section(
            text,
            [
                f"[project.entry-points.{ENTRY_POINT_GROUP}]",
                f'[project.entry-points."{ENTRY_POINT_GROUP}"]',
            ],
        )
    )
    if not entry_points:
        raise ConfigurationError(
            f"{pyproject} declares no [project.entry-points.{ENTRY_POINT_GROUP}]: the function "
            "finds packs by their entry points, so this folder is not a rule pack"
        )
    return PackSource(spec, project["name"], project.get("version"), entry_points, folder.resolve())


def _installed(spec: str, found: list[tuple[str, str, str]]) -> PackSource:
    by_entry_point = [dist for name, _, dist in found if name == spec]
    dist_name = by_entry_point[0] if by_entry_point else spec
    mine = [ep for ep in found if _normalise(ep[2]) == _normalise(dist_name)]
    if not mine:
        raise ConfigurationError(
            f"{spec!r} is not a pack folder, an installed pack's entry-point name or an installed "
            f"pack's distribution name; installed packs: "
            f"{sorted({name for name, _, _ in found}) or 'none'}"
        )
    try:
        version: str | None = metadata.version(mine[0][2])
    except metadata.PackageNotFoundError:  # pragma: no cover - found means installed
        version = None
    return PackSource(spec, mine[0][2], version, tuple((n, v) for n, v, _ in mine), None)


def resolve_packs(specs: Sequence[str]) -> list[PackSource]:
    """The packs ``specs`` name (none: every installed pack), one per distribution, in order."""
    found = installed_entry_points()
    if not specs:
        specs = sorted({dist for _, _, dist in found})
    packs: dict[str, PackSource] = {}
    for spec in specs:
        path = Path(spec)
        pack = _folder_pack(spec, path) if path.is_dir() else _installed(spec, found)
        packs.setdefault(_normalise(pack.dist_name), pack)
    names = [n for p in packs.values() for n in p.entry_point_names]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigurationError(f"two packs declare the entry point(s) {twice}")
    return list(packs.values())


def load_plugins(packs: Sequence[PackSource]) -> Plugins:
    """The rules and hooks of exactly ``packs``, loaded the way the function loads them (by
    entry point). A pack folder is imported from the folder, installed or not."""
    plugins = Plugins()
    for pack in packs:
        if pack.folder is not None and str(pack.folder) not in sys.path:
            sys.path.insert(0, str(pack.folder))
        for name, value in pack.entry_points:
            plugins.add_entry_point(name, value, pack.dist_name)
    return plugins.finish()


def _zip_packs(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Entry-point name -> (distribution, version) of every pack in a code package."""
    out: dict[str, tuple[str, str]] = {}
    for member in archive.namelist():
        match = re.fullmatch(r"(([^/]+)-([^-/]+)\.dist-info/)entry_points\.txt", member)
        if not match:
            continue
        dist = metadata.PathDistribution(zipfile.Path(archive, match.group(1)))
        for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP):
            out[ep.name] = (match.group(2), match.group(3))
    # The function loads the packs its rulekit/entry_points.json lists (a zip without one, from
    # an older rulekit, scans the dist-info as above): a pack missing from it is not held.
    listed = f"rulekit/{Path(PACKAGED_ENTRY_POINTS).name}"
    if listed in archive.namelist():
        where = f"{archive.filename}: {listed}"
        with archive.open(listed) as handle:  # (bounded: a zip entry may inflate to gigabytes)
            text = handle.read(MAX_PACKAGED_BYTES + 1)
        names = {name for name, _, _ in packaged_entry_points(text, where)}
        out = {name: held for name, held in out.items() if name in names}
    return out


def check_package(path: Path, packs: Sequence[PackSource]) -> None:
    """Refuse a code package (zip) that does not hold every pack the templates load, or holds
    another version of one: the function would fail every invocation with PluginError or run
    other rules than the templates declare."""
    try:
        with zipfile.ZipFile(path) as archive:
            held = _zip_packs(archive)
    except (OSError, zipfile.BadZipFile, PluginError) as exc:
        raise ConfigurationError(f"{path} is not a readable code package: {exc}") from None
    rebuild = "rebuild it with: rulekit package " + " ".join(p.spec for p in packs)
    missing = [n for p in packs for n in p.entry_point_names if n not in held]
    if missing:
        raise ConfigurationError(
            f"the code package {path} does not hold the pack(s) {missing} that the templates "
            f"load (it holds {sorted(held) or 'none'}); {rebuild}"
        )
    for pack in packs:
        for name in pack.entry_point_names:
            dist, version = held[name]
            same = _normalise(dist) == _normalise(pack.dist_name)
            if pack.version and same and version != pack.version:
                raise ConfigurationError(
                    f"the code package {path} holds {pack.dist_name} {version}, the templates "
                    f"are exported from {pack.version}; {rebuild}"
                )


def _project_dir(dist_name: str) -> Path | None:
    """The local source folder of an installed (editable or path) distribution, if any."""
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return None
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    url = json.loads(text).get("url", "")
    if url.startswith("file://"):
        path = Path(url[len("file://") :])
        return path if (path / "pyproject.toml").exists() else None
    return None
