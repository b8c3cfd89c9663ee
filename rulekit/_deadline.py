"""How long the invocation may still run: FC kills a function at its timeout, so retries and
sweeps stop early enough to flush what they have and fail loudly instead of being cut off.

FC's Python context carries the function's timeout (``context.function.timeout``, seconds) but no
remaining-time call, so the clock starts when the handler is entered.

Example::

    deadline = Deadline.from_context(context)       # context.function.timeout = 60
    if deadline.remaining() < 5:
        ...                                          # stop starting new work
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_SAFETY_MARGIN", "Deadline"]

#: Seconds kept in reserve at the end of an invocation for the final flush and logging.
DEFAULT_SAFETY_MARGIN = 3.0


class Deadline:
    """A point in monotonic time after which no new work should start (None: unbounded)."""

    def __init__(
        self,
        seconds: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.0,
    ) -> None:
        self._clock = clock
        self._at = None if seconds is None else clock() + max(0.0, seconds - margin)

    @classmethod
    def from_context(
        cls, context: Any, *, started: float | None = None, margin: float = DEFAULT_SAFETY_MARGIN
    ) -> Deadline:
        """From ``context.function.timeout`` (seconds); unbounded when the context has none."""
        timeout = getattr(getattr(context, "function", None), "timeout", None)
        try:
            seconds = float(timeout) if timeout is not None else None
        except (TypeError, ValueError):
            seconds = None
        deadline = cls(seconds, margin=min(margin, (seconds or 0) / 4))
        if started is not None and deadline._at is not None:
            deadline._at -= time.monotonic() - started  # time spent before we were built
        return deadline

    def remaining(self) -> float:
        """Seconds left (``math.inf`` when unbounded, never negative)."""
        if self._at is None:
            return math.inf
        return max(0.0, self._at - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining():.3f}s)"
