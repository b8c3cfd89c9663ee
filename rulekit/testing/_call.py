"""What the emulator records of each request it receives.

Example::

    failed = [call for call in emulator.calls if not call.ok]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ._faults import Delay, Fault

__all__ = ["Call"]


@dataclass
class Call:
    """One request the emulator received. ``params`` holds the action's own parameters (the
    signature, token and other common parameters are left out)."""

    product: str
    action: str
    params: dict[str, str]
    status: int = 200
    code: str | None = None
    access_key_id: str | None = None
    fault: Fault | None = None
    at: float = field(default_factory=time.time)
    #: The member account whose assumed-role credentials signed the call (None: the function's).
    account_id: str | None = None
    #: The request's RegionId (a common parameter: the caller's, or the SDK client's region).
    region_id: str | None = None
    #: The client's end of the TCP connection ("host:port"): calls that share it reused one
    #: keep-alive connection.
    connection: str | None = None

    @property
    def ok(self) -> bool:
        """Answered 200 (a Delay that still processed the request counts as answered)."""
        processed = self.fault is None or (isinstance(self.fault, Delay) and self.fault.process)
        return self.status == 200 and processed
