"""Rules that misbehave with secrets, for the redaction tests (tests/test_secrets.py)."""

import logging
import threading

from rulekit import Compliance, rule
from rulekit.testing import TEST_CREDENTIALS

#: Set by a test to let ``waits-then-leaks`` go on; cleared again by the test.
GATE = threading.Event()
SECURITY_TOKEN = TEST_CREDENTIALS.security_token or ""


class LongRepr:
    """An object whose repr puts the security token after 60 characters."""

    def __repr__(self) -> str:
        return "x" * 60 + SECURITY_TOKEN


@rule(resource_type="ACS::ECS::Instance", name="waits-then-leaks")
def waits_then_leaks(resource, ctx):
    if resource.id == "i-waits":
        GATE.wait(30)
        logging.getLogger("hostile").error("my token is %s", ctx.event.result_token)
        raise RuntimeError(f"failed with token {ctx.event.result_token}")
    return Compliance.COMPLIANT


@rule(resource_type="ACS::ECS::Instance", name="returns-a-secret")
def returns_a_secret(resource):
    if resource.id == "i-token":
        return SECURITY_TOKEN  # not a compliance type: the error quotes it
    if resource.id == "i-long":
        return LongRepr()  # the error shows its repr, cut to 80 characters
    raise ValueError(f"cannot reach the API with token {SECURITY_TOKEN}")
