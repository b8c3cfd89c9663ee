"""A plugin that supplies the delivery sink."""

from rulekit import hookimpl
from rulekit._delivery import MemorySink

SINK = MemorySink()


@hookimpl
def rulekit_delivery_sink(event, config):
    return SINK
