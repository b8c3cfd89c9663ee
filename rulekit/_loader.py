"""Which rules a module defines, and the set of loaded rules the dispatcher chooses from.

A module's rules are the ones it defines with ``@rule`` or ``condition_rule`` at module level
(recorded by module when defined), so a module that imports another's rules does not own them.
Loading modules and packs is rulekit._plugins' job.

Example::

    rules = RuleSet(rules_in_package(rulekit_ecs))
    rules.select(event_rule_name=None, requested="ecs-instance-image-check")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING

from ._errors import RuleDefinitionError, RuleNotFoundError

if TYPE_CHECKING:
    from ._rule import Rule

__all__ = [
    "ENV_RULE",
    "ENV_RULES",
    "RuleSet",
    "defined_in",
    "defined_modules",
    "register",
    "rules_in_module",
    "rules_in_package",
]

ENV_RULES = "RULEKIT_RULES"
ENV_RULE = "RULEKIT_RULE"


# module name -> {rule name: Rule}, in definition order: what a module "defines".
_DEFINED: dict[str, dict[str, Rule]] = {}


def defined_in(module: str) -> list[Rule]:
    """The rules defined by module ``module`` (by @rule or condition_rule), in order."""
    return list(_DEFINED.get(module, {}).values())


def defined_modules() -> list[str]:
    """Names of the modules that have defined rules so far."""
    return list(_DEFINED)


def register(rule: Rule, module_level: bool) -> None:
    """Record ``rule`` as its module's (called by Rule when it is defined)."""
    # Only rules defined at a module's top level belong to it; a rule built inside a function
    # (a test, a factory) is the caller's to pass around.
    if rule.module is None or not module_level:
        return
    rules = _DEFINED.setdefault(rule.module, {})
    existing = rules.get(rule.name)
    if existing is not None and existing.location != rule.location:
        raise RuleDefinitionError(
            f"two rules are named {rule.name!r} in {rule.module}: {existing.location} and "
            f"{rule.location}; pass name= to one of them"
        )
    rules[rule.name] = rule  # same place again: a module reload replaces it


def rules_in_module(module: ModuleType) -> list[Rule]:
    """Every rule the module defines (``@rule`` or ``condition_rule``), in definition order.
    Rules it merely imports from another module are not its own."""
    return defined_in(module.__name__)


def rules_in_package(module: ModuleType) -> list[Rule]:
    """The rules a module and its (imported) submodules define, in definition order."""
    prefix = module.__name__ + "."
    names = [module.__name__, *sorted(n for n in defined_modules() if n.startswith(prefix))]
    return [rule for name in names for rule in defined_in(name)]


class RuleSet:
    """Loaded rules by name. Two rules with one name are an error naming both places."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: dict[str, Rule] = {}
        #: What an error says to do when no rule is loaded (the loader knows why there is none).
        self.when_empty = f"set {ENV_RULES} to rule modules"
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
        return ", ".join(sorted(self._rules)) or f"none ({self.when_empty})"

    def select(self, event_rule_name: str | None = None, requested: str | None = None) -> Rule:
        """The rule to run: ``requested`` (env RULEKIT_RULE) if given, else the rule named like
        the event's Config rule, else the only loaded rule."""
        if requested:
            return self._rules.get(requested) or self[requested]
        if event_rule_name and event_rule_name in self._rules:
            return self._rules[event_rule_name]
        if len(self._rules) == 1:
            return next(iter(self._rules.values()))
        hint = f" the event names rule {event_rule_name!r};" if event_rule_name else ""
        raise RuleNotFoundError(
            f"cannot tell which rule to run:{hint} loaded rules: {self._names()}; "
            f"set {ENV_RULE} to one of them"
        )
