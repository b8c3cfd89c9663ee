"""Loading rule packs and plugins with pluggy.

Sources, in order: the built-in plugin (``rulekit._builtins``); installed distributions declaring
the ``rulekit`` entry-point group (``[project.entry-points.rulekit] ecs = "rulekit_ecs"``),
filtered by env ``RULEKIT_LOAD_PLUGINS`` (unset: all; a comma-separated allow-list; empty: none),
in a code package the ones ``rulekit package`` resolved and listed (``PACKAGED_ENTRY_POINTS``);
modules named in ``RULEKIT_RULES``; modules given with ``rulekit -p``. Every source is registered
the same way: its module is a pluggy plugin, and the rules it (or its submodules) defines are
its pack's rules. A plugin that fails to import or defines an invalid rule raises PluginError
naming it; two rules with one name, in any packs, are an error naming both.

Example::

    plugins = Plugins.from_env({"RULEKIT_RULES": "my_rules"})
    for rule in plugins.rules:
        print(rule.pack, rule.name)
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy

from . import _builtins, _hookspecs
from ._errors import PluginError, RulekitError
from ._loader import RuleSet, rules_in_package
from ._redact import shown
from ._rule import Rule

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_LOAD_PLUGINS",
    "MAX_PACKAGED_BYTES",
    "PACKAGED_ENTRY_POINTS",
    "Pack",
    "Plugins",
    "installed_entry_points",
    "packaged_entry_points",
]

ENTRY_POINT_GROUP = "rulekit"
ENV_LOAD_PLUGINS = "RULEKIT_LOAD_PLUGINS"
#: Written by ``rulekit package`` into the code package: the packs' entry points, resolved at
#: build time, so that a cold start imports the modules they name and scans no distribution
#: metadata (importing ``importlib.metadata`` alone would cost it ~25 ms).
PACKAGED_ENTRY_POINTS = os.path.join(os.path.dirname(__file__), "entry_points.json")
MAX_PACKAGED_BYTES = 1_000_000  # a pack's entry is ~60 bytes: room for thousands of packs


def installed_entry_points() -> list[tuple[str, str, str]]:
    """``(name, "module[:attr]", distribution)`` of every ``rulekit`` entry point: those the code
    package lists (``PACKAGED_ENTRY_POINTS``), or else importlib.metadata's, where the first
    distribution of a name on ``sys.path`` wins; ordered by distribution.

    Example::

        >>> ("ecs", "rulekit_ecs", "rulekit-ecs") in installed_entry_points()
        True
    """
    try:
        with open(PACKAGED_ENTRY_POINTS, "rb") as handle:
            text = handle.read(MAX_PACKAGED_BYTES + 1)
    except FileNotFoundError:
        text = None
    except OSError as exc:  # a directory, no permission: the list is there but unreadable
        raise PluginError(
            f"{PACKAGED_ENTRY_POINTS} (written by rulekit package) cannot be read: {exc}"
        ) from None
    if text is not None:
        return packaged_entry_points(text, PACKAGED_ENTRY_POINTS)
    from importlib.metadata import entry_points

    found = [
        (ep.name, ep.value, ep.dist.name if ep.dist else "")
        for ep in entry_points(group=ENTRY_POINT_GROUP)
    ]
    return sorted(found, key=lambda ep: _normalise(ep[2]))  # stable: declaration order kept


def packaged_entry_points(text: bytes, source: str) -> list[tuple[str, str, str]]:
    """The list ``rulekit package`` wrote (``text``, read from ``source``), checked: a damaged
    file is a PluginError naming it, not a traceback from json or from tuple unpacking in the
    function's cold start."""
    where = f"{source} (written by rulekit package; rebuild the code package)"
    if len(text) > MAX_PACKAGED_BYTES:
        raise PluginError(f"{where} is larger than {MAX_PACKAGED_BYTES} bytes")
    try:
        listed = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # (UnicodeDecodeError is a ValueError)
        raise PluginError(f"{where} is not valid JSON: {type(exc).__name__}: {exc}") from None
    if not isinstance(listed, list):
        raise PluginError(f"{where} must be a JSON list, got {type(listed).__name__}")
    for index, entry in enumerate(listed):
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and all(isinstance(part, str) and part.strip() for part in entry)
        ):
            raise PluginError(
                f"{where}: entry {index} must be [name, module, distribution] (three non-empty "
                f"strings), got {shown(entry)}"
            )
    return [(name, value, dist) for name, value, dist in listed]


def _normalise(dist_name: str) -> str:
    return re.sub(r"[-_.]+", "-", dist_name).lower()


def _load(value: str) -> Any:
    """Import what an entry point names: ``module`` or ``module:attr.attr``."""
    module_name, _, attr = value.partition(":")
    target: Any = importlib.import_module(module_name.strip())
    for part in attr.strip().split(".") if attr.strip() else ():
        target = getattr(target, part)
    return target


@dataclass(slots=True)
class Pack:
    """A loaded plugin: where it came from and the rules it brought."""

    name: str
    origin: str
    module: str
    rules: list[str]  # appended to as the pack's rules are taken


class Plugins:
    """The plugin manager, the loaded packs, and their rules."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("rulekit")
        self.pm.add_hookspecs(_hookspecs)
        self.pm.register(_builtins, name="rulekit.builtins")
        self.rules = RuleSet()
        self.packs: dict[str, Pack] = {}

    @property
    def hook(self) -> pluggy.HookRelay:
        return self.pm.hook

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, modules: Iterable[str] = ()
    ) -> Plugins:
        """Entry points (per RULEKIT_LOAD_PLUGINS), RULEKIT_RULES modules, then ``modules``."""
        env = os.environ if environ is None else environ
        plugins = cls()
        allow = env.get(ENV_LOAD_PLUGINS)
        if allow is None:
            plugins.load_entrypoints()
        elif allow.strip():
            plugins.load_entrypoints({n.strip() for n in allow.split(",") if n.strip()})
        else:  # (a function whose packs are all switched off must not only blame RULEKIT_RULES)
            plugins.rules.when_empty = (
                f"{ENV_LOAD_PLUGINS} is set and empty, so no installed or packaged pack is "
                f"loaded; name packs in it, or set RULEKIT_RULES to rule modules"
            )
        for name in env.get("RULEKIT_RULES", "").split(","):
            if name.strip():
                plugins.add_module(name.strip(), origin="RULEKIT_RULES")
        for name in modules:
            plugins.add_module(name, origin="-p")
        return plugins.finish()

    def load_entrypoints(self, allow: set[str] | None = None) -> None:
        """Load every installed ``rulekit`` entry point (or only those named in ``allow``)."""
        found = installed_entry_points()
        if allow is not None:
            unknown = allow - {name for name, _, _ in found}
            if unknown:
                provider = "installed package provides"
                if os.path.exists(PACKAGED_ENTRY_POINTS):  # the templates and the zip disagree
                    provider = "pack in this code package provides (rebuild it with them)"
                raise PluginError(
                    f"{ENV_LOAD_PLUGINS} names {sorted(unknown)}, which no {provider}; "
                    f"installed: {sorted(name for name, _, _ in found) or 'none'}"
                )
        for name, value, dist in found:
            if allow is None or name in allow:
                self.add_entry_point(name, value, dist)

    def add_entry_point(self, name: str, value: str, dist: str) -> None:
        """Import entry point ``name = value`` of distribution ``dist`` and add it as a plugin."""
        origin = f"entry point {name} = {value} (distribution {dist})"
        try:
            module = _load(value)
        except RulekitError as exc:
            raise PluginError(f"plugin {name!r} ({origin}) has an invalid rule: {exc}") from exc
        except Exception as exc:
            raise PluginError(
                f"plugin {name!r} ({origin}) failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        self.add(module, name=name, origin=origin)
        pack = self.packs.get(name)
        if pack is not None and not pack.rules and not self.pm.get_hookcallers(module):
            # (a pack whose __init__ does not import its rules module: the function would
            # load it, find no rule, and fail every invocation with a misleading message)
            raise PluginError(
                f"plugin {name!r} ({origin}) defines no rules and implements no rulekit "
                f"hooks: does {value.partition(':')[0]!r} import the modules that define them?"
            )

    def add_module(self, name: str, origin: str) -> None:
        """Import ``name`` and add it as a plugin (a no-op if it is loaded already)."""
        if any(pack.module == name for pack in self.packs.values()):
            return
        if "/" in name or "\\" in name or name.endswith(".py"):
            stem = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].removesuffix(".py")
            raise PluginError(
                f"plugin {name!r} (from {origin}) is a path; name a module importable from the "
                f"current folder (e.g. {stem!r}, run from its parent folder), or install its pack "
                "(pip install -e FOLDER)"
            )
        try:
            module = importlib.import_module(name)
        except RulekitError as exc:
            raise PluginError(
                f"plugin {name!r} (from {origin}) has an invalid rule: {exc}"
            ) from exc
        except Exception as exc:
            raise PluginError(
                f"plugin {name!r} (from {origin}) failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        self.add(module, name=name, origin=origin)
        hooks = self.pm.get_hookcallers(module) or []
        if not self.packs[name].rules and not hooks:
            raise PluginError(
                f"module {name!r} (from {origin}) defines no rules and implements "
                "no rulekit hooks: is it the right module?"
            )

    def add(self, module: ModuleType, *, name: str, origin: str) -> None:
        """Register ``module`` as plugin ``name`` and take the rules it defines."""
        if any(pack.module == module.__name__ for pack in self.packs.values()):
            return
        if name in self.packs:
            raise PluginError(
                f"two plugins are named {name!r}: {self.packs[name].origin} and {origin}"
            )
        if self.pm.get_plugin(name) is None:
            self.pm.register(module, name=name)
        pack = self.packs[name] = Pack(name, origin, module.__name__, [])
        for rule in rules_in_package(module):
            self._take(rule, pack)

    def _take(self, rule: Rule, pack: Pack) -> None:
        rule.pack = pack.name
        if rule.name in self.rules and self.rules[rule.name] is not rule:
            other = self.rules[rule.name]
            raise PluginError(
                f"two rules are named {rule.name!r}: in pack {other.pack!r} "
                f"({other.location}) and in pack {pack.name!r} ({rule.location})"
            )
        self.rules.add(rule)
        pack.rules.append(rule.name)

    def finish(self) -> Plugins:
        """Collect hook-registered rules and check every hook implementation has a spec."""
        for impl in self.pm.hook.rulekit_register_rules.get_hookimpls():
            pack = self.packs.get(impl.plugin_name) or Pack(
                impl.plugin_name, "hook", impl.plugin_name, []
            )
            self.packs.setdefault(pack.name, pack)
            impl.function(register=lambda rule, _pack=pack: self._take(rule, _pack))
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {exc.plugin!r}: {exc}") from None
        return self
