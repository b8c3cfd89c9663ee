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


class StepClock:
    """A monotonic clock for ``Deadline`` that only moves when ``paced`` says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


#: The clock ``paced`` advances by one second per resource; what it read at each start.
CLOCK = StepClock()
STARTS: list[float] = []
#: Holds ``hangs`` on resource i-hangs until a test sets it.
HANG = threading.Event()


@rule(resource_type="ACS::ECS::Instance", name="paced")
def paced(resource, ctx):
    STARTS.append(ctx.deadline.remaining())
    CLOCK.now += 1.0  # each resource takes one second of the invocation's time
    return Compliance.COMPLIANT


@rule(resource_type="ACS::ECS::Instance", name="hangs")
def hangs(resource):
    if resource.id == "i-hangs":
        HANG.wait(60)
    return Compliance.COMPLIANT
