"""rulekit's default behaviour, registered as a plugin through the same hooks as any other.

Example::

    plugins.pm.get_plugin("rulekit.builtins")
"""

from __future__ import annotations

from ._config_api import ConfigApi
from ._delivery import ConfigSink, Sink
from ._event import ConfigEvent
from ._hookspecs import hookimpl

__all__ = ["rulekit_delivery_sink"]


@hookimpl(trylast=True)
def rulekit_delivery_sink(event: ConfigEvent, config: ConfigApi | None) -> Sink | None:
    """PutEvaluations with the event's result token, when there is API access."""
    if config is None:
        return None
    return ConfigSink(config, event.result_token)
