"""Running at the API's rate quota, never over it: a pace per (product, action), shared by every
thread of the client that calls it.

Alibaba Cloud counts its API rate quotas per region, per action and per main account (all the
RAM users and roles of one account share them; docs/sweeps.md). A sweep's worker threads, its
listing and its PutEvaluations calls are therefore paced per action, by one :class:`Pace` each:

- A user limit (``RULEKIT_<PRODUCT>_RATE_LIMIT``, requests per second for each action of the
  product) spaces requests at least ``1/limit`` apart, from the first one.
- Without throttling nothing else holds a request back: the concurrency is the sweep's cap.
- A throttled answer sets a rate: 0.9 x the answers that succeeded in the last second (what the
  quota let through; in the first second, per second observed), or half the current rate when
  too few did to measure. Throttled answers to requests sent before that decision are the same
  overshoot and do not lower it again.
- Each success raises the rate by 1/8 request/s, so it climbs back (at 150/s: in about a second
  from 0.9 x) until the next throttle: the rate saws between 0.9 and 1 x the quota, and the
  concurrency in flight (rate x round trip) follows.

The thread sleeps until its slot; a slot past the invocation's deadline is not waited for.

Example::

    pace = Pace(limit=20.0)
    ticket = pace.admit(deadline, sleep=time.sleep)   # sleeps until the request may go
    ...send...; pace.succeeded(ticket)  (or pace.throttled(ticket))
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from ._deadline import Deadline
from ._errors import ApiError

__all__ = ["DECREASE", "FLOOR", "GROWTH", "RATE_LIMITED", "Pace", "Pacing", "is_throttled"]

#: A throttled answer sets the rate to this share of the successes in the last second.
DECREASE = 0.9
#: Requests per second each success adds to a learned rate.
GROWTH = 1 / 8
#: The slowest a learned rate goes (requests per second).
FLOOR = 1.0
#: Fewer successes than this in the last second are too few to measure the quota from.
MIN_SAMPLE = 4
_WINDOW = 1.0  # seconds of successes measured
_MIN_SPAN = 0.1  # the shortest time a rate is measured over
#: The code of the ApiError for a request the pace would hold past the invocation's deadline.
RATE_LIMITED = "RateLimited"


def is_throttled(code: str) -> bool:
    """The platform's flow-control codes: ``Throttling``, ``Throttling.User``, ``Throttling.Api``
    and the like, and ``Rejected.Throttling`` (research16.md: the Terraform provider's list;
    Config documents none, so the code decides, not the HTTP status)."""
    return code.startswith("Throttling") or code == "Rejected.Throttling"


class Pace:
    """When the requests of one action may go. ``limit``: the user's ceiling (requests/s)."""

    def __init__(
        self, limit: float | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        #: The rate learned from throttling (requests/s); None until the first throttle.
        self.rate: float | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._next = -math.inf  # the earliest time the next request may go
        self._decided = -math.inf  # when the rate was last lowered
        self._successes: deque[float] = deque()
        self._first_success = math.inf

    def interval(self) -> float:
        """Seconds between two requests (0: not paced)."""
        rates = [r for r in (self.limit, self.rate) if r is not None]
        return 1 / min(rates) if rates else 0.0

    def reserve(self) -> float:
        """Take the next slot: the monotonic time the request may go (now when not paced)."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval()
            return slot

    def admit(
        self, deadline: Deadline, *, sleep: Callable[[float], None], action: str = "the call"
    ) -> float:
        """Wait for the next slot and return it (the ticket for :meth:`succeeded` and
        :meth:`throttled`). A slot further away than the deadline is an ApiError, not a wait."""
        slot = self.reserve()
        wait = slot - self._clock()
        if wait > 0:
            if wait > deadline.remaining():
                raise ApiError(
                    f"{action} not sent: its rate ({1 / self.interval():.1f}/s) would hold it "
                    f"{wait:.1f}s, past the invocation's remaining {deadline.remaining():.1f}s",
                    action=action,
                    code=RATE_LIMITED,
                )
            sleep(wait)
        return slot

    def succeeded(self, ticket: float) -> None:
        with self._lock:
            now = self._clock()
            self._first_success = min(self._first_success, now)
            self._successes.append(now)
            while self._successes and self._successes[0] <= now - _WINDOW:
                self._successes.popleft()
            if self.rate is not None:
                self.rate += GROWTH

    def throttled(self, ticket: float) -> None:
        """The request sent at ``ticket`` was throttled: lower the rate, once per overshoot."""
        with self._lock:
            if ticket < self._decided:
                return  # sent before the last decision: that overshoot is answered already
            now = self._clock()
            count = sum(1 for t in self._successes if t > now - _WINDOW)
            # Over the time observed when that is under a second: an early decision would
            # otherwise take a quarter second's successes for a second's, and climb back slowly.
            observed = max(_MIN_SPAN, min(_WINDOW, now - self._first_success))
            if count >= MIN_SAMPLE:
                rate = DECREASE * count / observed
            elif self.rate is not None:
                rate = self.rate / 2
            else:
                return  # too little traffic to learn from: the call's own backoff answers it
            self.rate = max(FLOOR, min(rate, self.rate if self.rate is not None else math.inf))
            self._decided = now


class Pacing:
    """The paces of one account's client, by (product, action), created on first use.
    ``limits``: requests per second per action, by lower-case product name."""

    def __init__(
        self,
        limits: Mapping[str, float] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = dict(limits or {})
        self._clock = clock
        self._paces: dict[tuple[str, str], Pace] = {}
        self._lock = threading.Lock()

    def of(self, product: str, action: str) -> Pace:
        key = (product.lower(), action)
        with self._lock:
            pace = self._paces.get(key)
            if pace is None:
                pace = self._paces[key] = Pace(self.limits.get(key[0]), clock=self._clock)
            return pace
