"""Helpers shared by the CLI commands: loading plugins visibly and describing rules."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Sequence
from typing import Any

from .._lint import check_rule
from .._plugins import Plugins
from .._rule import Rule

__all__ = ["check_rules", "load_plugins", "parameters_of", "parse_params"]


def load_plugins(args: argparse.Namespace, modules: Iterable[str] = ()) -> Plugins:
    """Entry points, RULEKIT_RULES, ``-p`` modules and ``modules``; every rule's JSONPath
    literals are checked, so a typo fails here with the rule's name and file:line."""
    plugins = Plugins.from_env(os.environ, getattr(args, "plugin", []))
    for name in modules:
        plugins.add_module(name, origin="a fixture's module:")
    return check_rules(plugins)


def check_rules(plugins: Plugins) -> Plugins:
    """Check every rule's JSONPath literals (a typo fails with the rule's name and file:line)."""
    for rule in plugins.rules:
        check_rule(rule)
    return plugins


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not hasattr(annotation, "__args__") else None
    return text or str(annotation).replace("typing.", "")


def parameters_of(rule: Rule) -> list[dict[str, Any]]:
    """The rule parameters a rule reads: key (as the platform spells it), type, required,
    default."""
    if rule.params_model is not None:
        return [
            {
                "key": f.key,
                "type": _type_name(f.annotation),
                "required": f.required,
                "default": None if f.required else f.default,
            }
            for f in rule.params_model.param_fields().values()
        ]
    return [
        {"key": key, "type": "str", "required": True, "default": None}
        for key in rule.required_params
    ]


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """``--params key=value`` options as rule parameters (values stay strings, as the platform
    sends them)."""
    from . import UsageError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--params takes key=value, got {pair!r}")
        out[key] = value
    return out
