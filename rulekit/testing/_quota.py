"""The emulator's API rate quotas: a token bucket per (account, action), as the platform counts
them (per region, per action, per main account; docs/sweeps.md). A call beyond the quota is
answered with the :class:`~rulekit.testing.Throttle` fault's code, status and message, and does
not use up the quota (whether the platform counts rejected calls is not documented).

The platform states its quotas as "N per 60 s" without saying whether the window is fixed or a
bucket; the emulator uses a bucket that holds ``burst`` tokens (default: one second's worth)
and refills at ``per_second``, on a monotonic clock that tests can replace.

Example::

    emulator = ConfigEmulator(quota={"GetDiscoveredResource": 50})
    emulator.set_quota("PutEvaluations", 50, burst=10)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["Quotas", "TokenBucket"]


class TokenBucket:
    """``per_second`` tokens a second, at most ``burst`` kept; :meth:`take` takes one if any."""

    def __init__(
        self, per_second: float, burst: float | None = None, *, clock: Callable[[], float]
    ) -> None:
        if not (math.isfinite(per_second) and per_second > 0):
            raise ValueError(f"a quota must be a positive number per second, got {per_second!r}")
        self.per_second = per_second
        self.burst = max(1.0, per_second if burst is None else burst)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class Quotas:
    """Per action: requests per second and burst; one bucket per (account, action)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rates: dict[str, tuple[float, float | None]] = {}
        self._buckets: dict[tuple[str | None, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def set(self, action: str, per_second: float | None, burst: float | None = None) -> None:
        with self._lock:
            for key in [k for k in self._buckets if k[1] == action]:
                del self._buckets[key]
            if per_second is None:
                self._rates.pop(action, None)
            else:
                TokenBucket(per_second, burst, clock=self._clock)  # checks the values now
                self._rates[action] = (per_second, burst)

    def refill(self) -> None:
        with self._lock:
            self._buckets.clear()

    def admits(self, account_id: str | None, action: str) -> bool:
        """Whether the quota lets this call of ``action`` (signed by ``account_id``) through."""
        with self._lock:
            rate = self._rates.get(action)
            if rate is None:
                return True
            bucket = self._buckets.get((account_id, action))
            if bucket is None:
                bucket = TokenBucket(*rate, clock=self._clock)
                self._buckets[(account_id, action)] = bucket
            return bucket.take()
