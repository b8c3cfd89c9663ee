"""Find the rules to run: the ``Rule`` objects defined in the modules a deployment names.

Modules come from env ``RULEKIT_RULES`` (comma-separated import paths). A module's rules are the
ones it defines with ``@rule`` or ``condition_rule`` (recorded by module when defined), so a
module that imports another's rules does not own them, and tests can build rule sets freely.

Example::

    rules = RuleSet.from_modules(["rulekit_ecs.rules"])
    rules.select(event_rule_name=None)        # the only rule, or RuleNotFoundError
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator, Mapping
from types import ModuleType

from .errors import ConfigurationError, RuleDefinitionError, RulekitError, RuleNotFoundError
from .rule import Rule, defined_in

__all__ = ["ENV_RULE", "ENV_RULES", "RuleSet", "import_rule_module", "rules_in_module"]

ENV_RULES = "RULEKIT_RULES"
ENV_RULE = "RULEKIT_RULE"


def rules_in_module(module: ModuleType) -> list[Rule]:
    """Every rule the module defines (``@rule`` or ``condition_rule``), in definition order.
    Rules it merely imports from another module are not its own."""
    return defined_in(module.__name__)


def import_rule_module(name: str, origin: str = ENV_RULES) -> ModuleType:
    """Import a rule module; a failure names the module and where its name came from."""
    try:
        return importlib.import_module(name)
    except RulekitError:
        raise
    except Exception as exc:
        raise ConfigurationError(
            f"cannot import rule module {name!r} (named in {origin}): {type(exc).__name__}: {exc}"
        ) from exc


class RuleSet:
    """Loaded rules by name. Two rules with one name are an error naming both places."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: Rule) -> None:
        existing = self._rules.get(rule.name)
        if existing is not None and existing is not rule:
            raise RuleDefinitionError(
                f"two rules are named {rule.name!r}: {existing.location} and {rule.location}; "
                "pass name= to one of them"
            )
        self._rules[rule.name] = rule

    @classmethod
    def from_modules(cls, names: Iterable[str], origin: str = ENV_RULES) -> RuleSet:
        rules = cls()
        for name in names:
            module = import_rule_module(name, origin)
            found = rules_in_module(module)
            if not found:
                raise ConfigurationError(f"module {name!r} (named in {origin}) defines no rules")
            for rule in found:
                rules.add(rule)
        return rules

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuleSet:
        env = os.environ if environ is None else environ
        names = [n.strip() for n in env.get(ENV_RULES, "").split(",") if n.strip()]
        return cls.from_modules(names)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def __getitem__(self, name: str) -> Rule:
        try:
            return self._rules[name]
        except KeyError:
            raise RuleNotFoundError(f"no rule named {name!r}; loaded: {self._names()}") from None

    def _names(self) -> str:
        return ", ".join(sorted(self._rules)) or f"none (set {ENV_RULES} to rule modules)"

    def select(self, event_rule_name: str | None = None, requested: str | None = None) -> Rule:
        """The rule to run: ``requested`` (env RULEKIT_RULE) if given, else the rule named like
        the event's Config rule, else the only loaded rule."""
        if requested:
            return self[requested]
        if event_rule_name and event_rule_name in self._rules:
            return self._rules[event_rule_name]
        if len(self._rules) == 1:
            return next(iter(self._rules.values()))
        hint = f" the event names rule {event_rule_name!r};" if event_rule_name else ""
        raise RuleNotFoundError(
            f"cannot tell which rule to run:{hint} loaded rules: {self._names()}; "
            f"set {ENV_RULE} to one of them"
        )
