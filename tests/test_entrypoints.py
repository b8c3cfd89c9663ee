"""rulekit's own entry-point reader (the FC runtime path avoids importing importlib.metadata)."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from rulekit._entrypoints import EntryPoint, find


@pytest.mark.parametrize("group", ["rulekit", "console_scripts", "pytest11"])
def test_it_finds_what_importlib_metadata_finds_in_this_environment(group):
    ours = sorted((ep.name, ep.value, ep.dist_name) for ep in find(group))
    theirs = sorted((ep.name, ep.value, ep.dist.name) for ep in entry_points(group=group))
    assert ours == theirs and ours


def _dist(directory: Path, dirname: str, entry_points_txt: str | None, name: str = "") -> None:
    info = directory / dirname
    info.mkdir(parents=True)
    if name:
        meta = "PKG-INFO" if dirname.endswith(".egg-info") else "METADATA"
        (info / meta).write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1\n\nbody\n")
    if entry_points_txt is not None:
        (info / "entry_points.txt").write_text(entry_points_txt)


def test_sections_comments_extras_and_the_first_distribution_of_a_name(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    _dist(
        first,
        "my_pack-1.0.dist-info",
        "# a comment\n[console_scripts]\nnot-this = x:y\n\n[rulekit]\n"
        "; another comment\nmine = my_pack.rules\nextra = my_pack.more:RULES [fast]\n",
        name="My-Pack",
    )
    _dist(second, "my_pack-2.0.dist-info", "[rulekit]\nshadowed = elsewhere\n", name="my-pack")
    _dist(second, "old_pack-1.0-py3.11.egg-info", "[rulekit]\nold = old_pack\n", name="old-pack")
    _dist(second, "plain-1.0.dist-info", None, name="plain")  # no entry points at all
    found = find("rulekit", [str(first), str(second), str(tmp_path / "missing"), ""])
    assert [(ep.name, ep.value, ep.dist_name) for ep in found] == [
        ("mine", "my_pack.rules", "My-Pack"),
        ("extra", "my_pack.more:RULES", "My-Pack"),
        ("old", "old_pack", "old-pack"),
    ]


def test_the_distribution_name_falls_back_to_the_directory(tmp_path):
    _dist(tmp_path, "nameless-0.1.dist-info", "[rulekit]\nx = y\n")
    [ep] = find("rulekit", [str(tmp_path)])
    assert ep.dist_name == "nameless"


def test_load_imports_the_module_or_its_attribute():
    assert EntryPoint("p", "rulekit._evaluation", "rulekit", "d").load().__name__ == (
        "rulekit._evaluation"
    )
    loaded = EntryPoint("p", "rulekit._evaluation:Compliance.COMPLIANT", "rulekit", "d").load()
    assert loaded.value == "COMPLIANT"
