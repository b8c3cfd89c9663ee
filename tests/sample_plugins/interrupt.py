"""A plugin that presses Ctrl-C after five resources, for rulekit run's interrupt test."""

from rulekit import hookimpl

SEEN = []


@hookimpl
def rulekit_evaluations(rule, resource, evaluations, ctx):
    SEEN.append(resource.id)
    if len(SEEN) == 6:
        raise KeyboardInterrupt
