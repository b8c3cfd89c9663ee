"""rulekit's default behaviour, registered as a plugin through the same hooks as any other.

Example::

    plugins.pm.get_plugin("rulekit.builtins")
"""

from __future__ import annotations

from .config_api import ConfigApi
from .delivery import ConfigSink, Sink
from .event import ConfigEvent
from .hookspecs import hookimpl

__all__ = ["rulekit_delivery_sink"]


@hookimpl(trylast=True)
def rulekit_delivery_sink(event: ConfigEvent, config: ConfigApi | None) -> Sink | None:
    """PutEvaluations with the event's result token, when there is API access."""
    if config is None:
        return None
    return ConfigSink(config, event.result_token)
