"""Test support shipped with rulekit: a loopback Config API emulator, platform-shaped events and
an FC-shaped context. Real SDK, real HTTP, no mocks.

Example::

    from rulekit.testing import ConfigEmulator, FCContext, change_event, Throttle

    with ConfigEmulator() as emulator:
        emulator.script("PutEvaluations", Throttle())
        run(change_event("ACS::ECS::Instance", "i-1", {"ImageId": "m-1"}), FCContext(),
            environ=emulator.environ(RULEKIT_RULES="my_rules"))
        assert emulator.evaluations[0]["complianceType"] == "COMPLIANT"
"""

from __future__ import annotations

from .._plugins import Plugins
from ._emulator import TEST_CREDENTIALS, Call, ConfigEmulator
from ._events import TEST_RESULT_TOKEN, FCContext, change_event, sample_event, scheduled_event
from ._faults import ApiCallError, ApiFailure, Delay, Drop, Fault, Pass, ServerError, Throttle
from ._session import Session, invoke
from ._store import DEFAULT_ACCOUNT_ID, ResourceStore, StoredResource

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "TEST_CREDENTIALS",
    "TEST_RESULT_TOKEN",
    "ApiCallError",
    "ApiFailure",
    "Call",
    "ConfigEmulator",
    "Delay",
    "Drop",
    "FCContext",
    "Fault",
    "Pass",
    "Plugins",
    "ResourceStore",
    "ServerError",
    "Session",
    "StoredResource",
    "Throttle",
    "change_event",
    "invoke",
    "sample_event",
    "scheduled_event",
]
