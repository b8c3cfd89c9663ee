"""The hooks a rulekit plugin can implement (pluggy project name ``rulekit``).

A plugin is a module: an installed rule pack found through the ``rulekit`` entry-point group, a
module named in ``RULEKIT_RULES`` or passed with ``rulekit -p``. Its ``@rule`` functions and
``condition_rule`` definitions are its rules; it implements hooks only to do more. rulekit's own
default behaviour is the plugin ``rulekit._builtins``, registered through these same hooks.

Example (a plugin that tags every annotation with a runbook link)::

    from rulekit import hookimpl

    @hookimpl
    def rulekit_evaluations(rule, resource, evaluations, ctx):
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ._config_api import ConfigApi
    from ._context import Context
    from ._delivery import Sink
    from ._evaluation import Evaluation
    from ._event import ConfigEvent
    from ._resource import Resource
    from ._rule import Rule

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("rulekit")
hookimpl = pluggy.HookimplMarker("rulekit")


@hookspec
def rulekit_register_rules(register: Callable[[Rule], None]) -> None:
    """Register rules beyond those the plugin's modules define, e.g. rules generated from data.

    ``register(rule)`` adds one :class:`~rulekit._rule.Rule` under this plugin's name.
    """


@hookspec
def rulekit_evaluations(
    rule: Rule, resource: Resource, evaluations: list[Evaluation], ctx: Context
) -> None:
    """Observe or alter the evaluations of one resource before they are delivered.

    ``evaluations`` is the list that will be delivered: replace, add or remove items in place.
    Called for every evaluated resource (in scope or not), in change events and sweeps.
    """


@hookspec(firstresult=True)
def rulekit_delivery_sink(event: ConfigEvent, config: ConfigApi | None) -> Sink | None:
    """Supply the sink an invocation's evaluations go to. The first non-None answer wins; the
    built-in answer is PutEvaluations with the event's result token (None without credentials).
    """
