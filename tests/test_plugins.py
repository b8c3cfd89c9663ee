"""Plugins: entry-point packs, RULEKIT_RULES and -p modules, every hook, and loud failures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rulekit import PluginError
from rulekit import _hookspecs as hookspecs_module
from rulekit._plugins import Plugins, installed_entry_points
from rulekit.handler import run
from rulekit.testing import change_event

DOCS = Path(__file__).parent.parent / "docs" / "plugins.md"
NO_PACKS = {"RULEKIT_LOAD_PLUGINS": ""}


def _hook_names() -> list[str]:
    return sorted(n for n in dir(hookspecs_module) if n.startswith("rulekit_"))


class TestLoading:
    def test_installed_packs_load_through_the_entry_point_group(self):
        plugins = Plugins.from_env({})
        assert {"ecs", "oss", "ram"} <= set(plugins.packs)
        assert plugins.rules["oss-bucket-public-read-prohibited"].pack == "oss"
        assert "rulekit-ecs" in plugins.packs["ecs"].origin
        assert len(list(plugins.rules)) >= 13

    def test_rulekit_load_plugins_is_an_allow_list(self):
        plugins = Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "oss"})
        assert set(plugins.packs) == {"oss"}
        assert Plugins.from_env(NO_PACKS).packs == {}

    def test_an_empty_allow_list_is_named_when_no_rule_is_loaded(self):
        # A function deployed with RULEKIT_LOAD_PLUGINS="" was told only to set RULEKIT_RULES.
        from rulekit import RuleNotFoundError

        with pytest.raises(
            RuleNotFoundError, match="none \\(RULEKIT_LOAD_PLUGINS is set and empty"
        ):
            Plugins.from_env(NO_PACKS).rules.select(requested="acme-required-tag")
        with pytest.raises(RuleNotFoundError, match="none \\(set RULEKIT_RULES to rule modules\\)"):
            Plugins().rules.select()

    def test_an_allow_list_naming_no_installed_pack_is_an_error(self):
        with pytest.raises(PluginError, match="'nope'.*installed: .*ecs"):
            Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "ecs,nope"})

    def test_rulekit_rules_and_p_modules_are_packs_too(self):
        plugins = Plugins.from_env(
            {**NO_PACKS, "RULEKIT_RULES": "sample_rules.many"}, ["sample_rules.contract"]
        )
        assert plugins.packs["sample_rules.many"].origin == "RULEKIT_RULES"
        assert plugins.packs["sample_rules.contract"].origin == "-p"
        assert plugins.rules["fan-out"].pack == "sample_rules.many"

    def test_the_builtin_plugin_uses_the_same_hooks(self):
        plugins = Plugins.from_env(NO_PACKS)
        builtin = plugins.pm.get_plugin("rulekit.builtins")
        callers = [c.name for c in plugins.pm.get_hookcallers(builtin)]
        assert callers == ["rulekit_delivery_sink"]

    def test_the_first_distribution_of_a_name_on_sys_path_wins(self, tmp_path, monkeypatch):
        for folder, entry in (("first", "sample_rules.many"), ("second", "sample_rules.contract")):
            info = tmp_path / folder / "rulekit_twice-1.0.dist-info"
            info.mkdir(parents=True)
            (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rulekit-twice\n")
            (info / "entry_points.txt").write_text(f"[rulekit]\n{folder} = {entry}\n")
        monkeypatch.syspath_prepend(str(tmp_path / "second"))
        monkeypatch.syspath_prepend(str(tmp_path / "first"))
        assert ("first", "sample_rules.many", "rulekit-twice") in installed_entry_points()
        assert set(Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "first"}).packs) == {"first"}
        with pytest.raises(PluginError, match="'second'"):
            Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "second"})

    def test_a_code_package_loads_the_entry_points_it_lists(self, tmp_path, monkeypatch):
        import importlib.metadata

        listed = tmp_path / "entry_points.json"
        listed.write_text('[["many", "sample_rules.many", "rulekit-samples"]]')
        monkeypatch.setattr("rulekit._plugins.PACKAGED_ENTRY_POINTS", str(listed))

        def no_scan(**_: object) -> None:
            raise AssertionError("a code package must not scan distribution metadata")

        monkeypatch.setattr(importlib.metadata, "entry_points", no_scan)
        plugins = Plugins.from_env({})
        assert set(plugins.packs) == {"many"}
        assert plugins.packs["many"].origin == (
            "entry point many = sample_rules.many (distribution rulekit-samples)"
        )
        assert plugins.rules["fan-out"].pack == "many"
        with pytest.raises(
            PluginError,
            match=r"\['nope'\], which no pack in this code package provides \(rebuild it with "
            r"them\); installed: \['many'\]",
        ):
            Plugins.from_env({"RULEKIT_LOAD_PLUGINS": "nope"})
        listed.write_text('[["broken", "sample_rules.broken", "rulekit-samples"]]')
        with pytest.raises(PluginError, match=r"plugin 'broken' \(entry point .*rulekit-samples"):
            Plugins.from_env({})

    @pytest.mark.parametrize(
        ("content", "problem"),
        [
            (b"[[[", "is not valid JSON: JSONDecodeError"),
            (b"\xff[]", "is not valid JSON: UnicodeDecodeError"),
            (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON: RecursionError"),
            (b"x" * 1_000_001, "is larger than 1000000 bytes"),
            (b"null", "must be a JSON list, got NoneType"),
            (b'{"acme": "rulekit_acme"}', "must be a JSON list, got dict"),
            (b'[["acme", "rulekit_acme"]]', r"entry 0 must be \[name, module, distribution\]"),
            (b'[["a", "m", "d"], ["acme", 5, "x"]]', r"entry 1 must be .*got \['acme', 5, 'x'\]"),
            (b'[["acme", " ", "x"]]', "entry 0 must be .*three non-empty strings"),
        ],
        ids=["syntax", "utf8", "deep", "huge", "null", "object", "short", "int", "blank"],
    )
    def test_a_damaged_packaged_list_is_a_plugin_error_naming_the_file(
        self, tmp_path, monkeypatch, content, problem
    ):
        # Hand-edited or truncated in a zip: a cold start must say which file and what is wrong,
        # not end in json's or tuple unpacking's traceback (walk2, entry_points.json).
        listed = tmp_path / "entry_points.json"
        listed.write_bytes(content)
        monkeypatch.setattr("rulekit._plugins.PACKAGED_ENTRY_POINTS", str(listed))
        with pytest.raises(PluginError, match=f"entry_points.json .*rebuild.*{problem}") as caught:
            Plugins.from_env({})
        assert str(listed) in str(caught.value)


class TestFailures:
    def test_an_import_error_names_the_plugin(self):
        with pytest.raises(
            PluginError,
            match=r"plugin 'sample_rules.broken' \(from -p\) failed "
            "to load: ModuleNotFoundError",
        ):
            Plugins.from_env(NO_PACKS, ["sample_rules.broken"])

    def test_an_invalid_rule_names_the_plugin_and_the_place(self):
        with pytest.raises(PluginError) as caught:
            Plugins.from_env(NO_PACKS, ["sample_plugins.invalid_rule"])
        message = str(caught.value)
        assert "plugin 'sample_plugins.invalid_rule'" in message
        assert "did you mean 'ACS::ECS::Instance'" in message
        assert "invalid_rule.py:" in message

    def test_duplicate_rule_names_across_packs_are_an_error(self):
        with pytest.raises(
            PluginError,
            match="two rules are named 'same-name': in pack "
            "'sample_plugins.dup_a'.*pack "
            "'sample_plugins.dup_b'",
        ):
            Plugins.from_env(NO_PACKS, ["sample_plugins.dup_a", "sample_plugins.dup_b"])

    def test_a_misspelt_hook_implementation_is_caught(self):
        with pytest.raises(PluginError, match="rulekit_evaluation"):
            Plugins.from_env(NO_PACKS, ["sample_plugins.misspelt"])

    def test_an_unreadable_packaged_list_is_a_plugin_error(self, tmp_path, monkeypatch):
        listed = tmp_path / "entry_points.json"
        listed.mkdir()  # (IsADirectoryError, like a PermissionError, is no FileNotFoundError)
        monkeypatch.setattr("rulekit._plugins.PACKAGED_ENTRY_POINTS", str(listed))
        with pytest.raises(PluginError, match="entry_points.json .* cannot be read: .*directory"):
            Plugins.from_env({})

    def test_an_entry_point_that_brings_no_rules_nor_hooks_is_an_error(self, tmp_path, monkeypatch):
        # A pack whose __init__ forgets to import its rules module: the function loaded it,
        # found no rule and failed every invocation with "loaded: none (set RULEKIT_RULES ...)";
        # export said "no rules to export: name a pack" although one was named (walk2). A -p
        # module was refused like this already.
        pack = tmp_path / "rulekit_forgot"
        pack.mkdir()
        (pack / "__init__.py").write_text('"""the rules module is never imported"""\n')
        monkeypatch.syspath_prepend(str(tmp_path))
        listed = tmp_path / "entry_points.json"
        listed.write_text('[["forgot", "rulekit_forgot", "rulekit-forgot"]]')
        monkeypatch.setattr("rulekit._plugins.PACKAGED_ENTRY_POINTS", str(listed))
        with pytest.raises(
            PluginError,
            match=r"plugin 'forgot' \(entry point forgot = rulekit_forgot \(distribution "
            r"rulekit-forgot\)\) defines no rules and implements no rulekit hooks: "
            r"does 'rulekit_forgot' import",
        ):
            Plugins.from_env({})
        sys.modules.pop("rulekit_forgot", None)

    def test_a_broken_installed_pack_names_its_entry_point_and_distribution(
        self, tmp_path, monkeypatch
    ):
        dist = tmp_path / "rulekit_broken_pack-0.1.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: rulekit-broken-pack\nVersion: 0.1\n"
        )
        (dist / "entry_points.txt").write_text("[rulekit]\nbroken = rulekit_broken_pack\n")
        (tmp_path / "rulekit_broken_pack.py").write_text("raise RuntimeError('half installed')\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        with pytest.raises(PluginError) as caught:
            Plugins.from_env({})
        message = str(caught.value)
        assert "plugin 'broken'" in message and "rulekit-broken-pack" in message
        assert "RuntimeError: half installed" in message
        sys.modules.pop("rulekit_broken_pack", None)


class TestHooks:
    """One test per hook (docs/plugins.md lists the same hooks; a meta-test checks both)."""

    def test_rulekit_register_rules_adds_generated_rules_under_the_plugin(self):
        plugins = Plugins.from_env(NO_PACKS, ["sample_plugins.hooks"])
        rule = plugins.rules["generated-rule"]
        assert rule.pack == "sample_plugins.hooks"
        assert plugins.packs["sample_plugins.hooks"].rules == ["generated-rule"]

    def test_rulekit_evaluations_can_alter_what_is_delivered(self, emulator, fc_context):
        from sample_plugins import hooks

        env = emulator.environ(
            RULEKIT_RULES="sample_plugins.hooks,sample_rules.contract",
            RULEKIT_RULE="ecs-instance-image-check",
        )
        event = change_event(
            "ACS::ECS::Instance",
            "i-1",
            {"ImageId": "m-9"},
            tags={"env": ["prod"]},
            rule_parameters={"imageIds": "m-1"},
        )
        run(event, fc_context, environ=env)
        [evaluation] = emulator.evaluations
        assert evaluation["annotation"] == "image m-9 is not approved (see runbook R-7)"
        assert "ecs-instance-image-check:i-1" in hooks.SEEN
        # the rule takes no ctx, but the hook still gets a real one for the resource
        assert hooks.CONTEXTS[-1] == ("ecs-instance-image-check", "i-1", event["orderingTimestamp"])

    def test_rulekit_delivery_sink_replaces_put_evaluations(self, emulator, fc_context):
        from sample_plugins import sink

        env = emulator.environ(RULEKIT_RULES="sample_plugins.sink,sample_rules.contract")
        event = change_event(
            "ACS::ECS::Instance",
            "i-1",
            {"ImageId": "m-1"},
            tags={"env": ["prod"]},
            rule_parameters={"imageIds": "m-1"},
        )
        run(event, fc_context, environ=env)
        assert emulator.put_calls == []
        assert sink.SINK.evaluations[-1]["complianceType"] == "COMPLIANT"


def test_every_hook_is_documented_and_tested():
    docs = DOCS.read_text()
    tests = Path(__file__).read_text()
    for name in _hook_names():
        assert f"`{name}" in docs, f"{name} is not documented in docs/plugins.md"
        assert f"test_{name}" in tests, f"{name} has no test named after it"
