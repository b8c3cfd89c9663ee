"""Find installed ``rulekit`` entry points without importing ``importlib.metadata``.

``importlib.metadata`` costs ~25 ms to import on FC's cold start (it pulls in ``email``,
``zipfile``, ``csv``...), more than the rest of rulekit's runtime path. Packs only need the
``[rulekit]`` section of each distribution's ``entry_points.txt``, which this module reads
directly, with ``importlib.metadata``'s rules: the directories of ``sys.path`` in order, the
first distribution of a name wins, ``name = module[:attr]`` lines. (Zip files on ``sys.path``
are not searched: FC unpacks the code package.)

Example::

    >>> isinstance(find("rulekit"), list)
    True
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from typing import Any, NamedTuple

__all__ = ["EntryPoint", "find"]

# "name-1.0.dist-info", "name.egg-info", "name-1.0-py3.11.egg-info"
_DIST_DIR = re.compile(r"^(?P<name>[^-]+)(?:-.*)?\.(?:dist-info|egg-info)$")


class EntryPoint(NamedTuple):
    """One ``name = value`` line of an entry-point group, and the distribution it is from."""

    name: str
    value: str
    group: str
    dist_name: str

    def load(self) -> Any:
        """Import the module (and attribute, after ``:``) the entry point names."""
        module_name, _, attr = self.value.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for part in attr.strip().split(".") if attr.strip() else ():
            target = getattr(target, part)
        return target


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _section(text: str, group: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
            continue
        if inside and "=" in line:
            name, _, value = line.partition("=")
            value = value.split("[", 1)[0].strip()  # drop "[extras]"
            entries.append((name.strip(), value))
    return entries


def _dist_name(info_dir: str, fallback: str) -> str:
    for metadata in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(info_dir, metadata), encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("Name:"):
                        return line[5:].strip()
                    if not line.strip():
                        break
        except OSError:
            continue
    return fallback


def find(group: str, path: Iterable[str] | None = None) -> list[EntryPoint]:
    """Every entry point of ``group`` in the distributions found on ``path`` (``sys.path``)."""
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for directory in sys.path if path is None else path:
        try:
            names = sorted(os.listdir(directory or "."))
        except OSError:
            continue
        for name in names:
            match = _DIST_DIR.match(name)
            if match is None:
                continue
            key = _normalise(match["name"])
            if key in seen:
                continue
            seen.add(key)
            info_dir = os.path.join(directory or ".", name)
            try:
                with open(os.path.join(info_dir, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            entries = _section(text, group)
            if entries:
                dist = _dist_name(info_dir, match["name"])
                found.extend(EntryPoint(n, v, group, dist) for n, v in entries)
    return found
