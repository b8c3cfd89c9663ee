"""Every JSONPath a pack's condition uses names a property Cloud Config records for the type."""

from __future__ import annotations

import json
import re

import pytest
from conftest import DATA

from rulekit._plugins import Plugins
from rulekit.conditions import Clause, Group

PACKS = ["ecs"]  # entry-point names of the packs in plugins/


def _properties(resource_type: str) -> set[str]:
    name = resource_type.replace("::", "_") + ".properties.json"
    return set(json.loads((DATA / "resource-types" / name).read_text()))


def _clauses(node: Group | Clause) -> list[Clause]:
    if isinstance(node, Clause):
        return [node]
    return [clause for child in node.children for clause in _clauses(child)]


def _property(feature_path: str) -> str:
    # $.Tags.Tag[*].TagKey -> Tags.Tag.TagKey ; $.Disks[0].Size -> Disks.Size
    return re.sub(r"\[[^\]]*\]", "", feature_path.removeprefix("$.")).strip(".")


PLUGINS = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": ",".join(PACKS)})
CONDITION_RULES = [r for r in PLUGINS.rules if r.condition is not None]


def test_the_packs_have_condition_rules():
    assert len(CONDITION_RULES) >= 3


@pytest.mark.parametrize("rule", CONDITION_RULES, ids=lambda r: r.name)
def test_condition_paths_are_recorded_properties(rule):
    for resource_type in rule.resource_types:
        known = _properties(resource_type)
        for clause in _clauses(rule.condition):
            assert _property(clause.feature_path) in known, (
                f"{rule.name}: {clause.feature_path} is not a recorded property of {resource_type}"
            )
