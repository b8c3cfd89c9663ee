"""A plugin implementing every rulekit hook, for tests/test_plugins.py."""

from dataclasses import replace

from rulekit import Compliance, Rule, hookimpl
from rulekit._delivery import MemorySink

SINK = MemorySink()
SEEN: list[str] = []
CONTEXTS: list[tuple[str, str, int]] = []  # what each call's ctx said


def _generated(resource):
    return Compliance.COMPLIANT


@hookimpl
def rulekit_register_rules(register):
    register(
        Rule(
            _generated,
            name="generated-rule",
            resource_types=["ACS::OSS::Bucket"],
            location="generated from data",
        )
    )


@hookimpl
def rulekit_evaluations(rule, resource, evaluations, ctx):
    SEEN.append(f"{rule.name}:{resource.id}")
    CONTEXTS.append((ctx.rule.name, ctx.resource.id, ctx.ordering_timestamp))
    for index, evaluation in enumerate(evaluations):
        if evaluation.compliance is Compliance.NON_COMPLIANT:
            evaluations[index] = replace(
                evaluation, annotation=f"{evaluation.annotation} (see runbook R-7)"
            )
