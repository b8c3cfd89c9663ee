"""Faults the emulator can be scripted to inject, per action, in call order.

Example::

    emulator.script("PutEvaluations", Throttle(), Pass(), ServerError(503))
    # 1st PutEvaluations call: throttled; 2nd: served; 3rd: 503; later calls: served
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ApiCallError",
    "ApiFailure",
    "Delay",
    "Drop",
    "Fault",
    "Pass",
    "ServerError",
    "Throttle",
]


@dataclass(frozen=True)
class Fault:
    """Base class: a fault replaces the normal response to one call."""


@dataclass(frozen=True)
class Pass(Fault):
    """No fault: serve this call normally (a placeholder in a script)."""


@dataclass(frozen=True)
class ApiFailure(Fault):
    """An API error response with this HTTP status, code and message."""

    status: int = 400
    code: str = "InvalidParameter"
    message: str = "scripted failure"


@dataclass(frozen=True)
class Throttle(ApiFailure):
    """The platform's flow-control answer (retryable)."""

    status: int = 400
    code: str = "Throttling.User"
    message: str = "Request was denied due to user flow control."


@dataclass(frozen=True)
class ServerError(ApiFailure):
    """A 5xx answer (retryable)."""

    status: int = 503
    code: str = "ServiceUnavailable"
    message: str = "The request has failed due to a temporary failure of the server."


@dataclass(frozen=True)
class Drop(Fault):
    """Close the connection without answering (the request is not processed)."""


@dataclass(frozen=True)
class Delay(Fault):
    """Wait ``seconds`` before answering; with ``process=False`` the request is then dropped
    unprocessed, so a client read timeout loses nothing on the server side."""

    seconds: float = 1.0
    process: bool = True


class ApiCallError(Exception):
    """Raised by an action handler to answer with an API error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
