"""A plugin whose hook implementation is misspelt."""

from rulekit import hookimpl


@hookimpl
def rulekit_evaluation(rule, resource, evaluations, ctx):  # missing "s"
    pass
