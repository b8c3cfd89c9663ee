"""Where a chained sweep stands in the resource listing, so the next invocation resumes exactly
there (docs/sweeps.md, "Past one invocation's time limit").

A sweep evaluates several resources at once, so they finish out of order; at the deadline some
are left behind. :class:`Trail` follows what was started and what finished, in listing order,
and gives the cut: the first resource not evaluated, plus the ids after it that were (so the
next link neither repeats nor skips them). It also skips, on resuming, what an earlier link
already did.

Example::

    trail = Trail(start=None)
    trail.started(Spot(False, 0, None, 0, None, "i-1"), future)
    trail.finished(future)
    trail.cut()        # None: nothing left behind
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, NamedTuple

__all__ = ["Position", "Spot", "Trail"]

log = logging.getLogger("rulekit.chain")


class Position(NamedTuple):
    """Where a link's sweep stopped, in terms a later invocation can use: the listing
    (``deleted``: the lookback listing of deleted resources, else the retained one), the index
    in it of the first resource not evaluated, the NextToken that fetches the page holding it
    (None: the first page) and that page's first index, the id just before the cut (checks
    that the listing has not shifted since), and the ids after the cut already evaluated (a
    sweep evaluates several resources at once, so they finish out of order)."""

    deleted: bool
    at: int
    token: str | None
    page_start: int
    anchor: str | None
    done: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {
            "listing": "deleted" if self.deleted else "retained",
            "index": self.at,
            "token": self.token,
            "pageStart": self.page_start,
            "anchor": self.anchor,
            "done": sorted(self.done),
        }


class Spot(NamedTuple):
    """One listed resource: its listing, index, page (token, first index), the id listed just
    before it and its own id."""

    deleted: bool
    at: int
    token: str | None
    page_start: int
    before: str | None
    resource_id: str | None

    def position(self, done: frozenset[str]) -> Position:
        """The position that resumes at this resource."""
        return Position(self.deleted, self.at, self.token, self.page_start, self.before, done)


class Trail:
    """What a sweep started, in listing order, until it finished (memory: the resources in
    flight); ``start`` is where an earlier link stopped (None: the chain's first link)."""

    def __init__(self, start: Position | None) -> None:
        self.start = start
        self._trail: deque[tuple[Spot, Any]] = deque()
        self._finished: set[Any] = set()
        self._skipped: list[Spot] = []  # done by an earlier link, listed after its cut
        self._stopped: Spot | None = None
        #: Listed resources an earlier link had evaluated, skipped here.
        self.skipped = 0

    def skip(self, spot: Spot) -> bool:
        """Whether an earlier link already evaluated this resource."""
        start = self.start
        if start is None:
            return False
        if spot.deleted == start.deleted and spot.at < start.at:
            if spot.at == start.at - 1 and spot.resource_id != start.anchor:
                # Resources were added or removed before the cut since the last link: by
                # index, one may now be evaluated twice or not in this chain (docs/sweeps.md).
                log.warning(
                    "the listing shifted since the previous link: %s is at index %d, not %s",
                    spot.resource_id,
                    spot.at,
                    start.anchor,
                )
            self.skipped += 1
            return True
        if spot.resource_id in start.done:
            self._skipped.append(spot)
            self.skipped += 1
            return True
        return False

    def started(self, spot: Spot, future: Any) -> None:
        self._trail.append((spot, future))

    def finished(self, future: Any) -> None:
        """``future`` produced its resource's evaluations (not merely ended)."""
        self._finished.add(future)
        trail = self._trail
        while trail and trail[0][1] in self._finished:
            self._finished.discard(trail.popleft()[1])

    def stopped(self, spot: Spot) -> None:
        """The sweep ran out of time before starting ``spot``."""
        self._stopped = spot

    def cut(self) -> Position | None:
        """Where the next link resumes: the first resource started but not evaluated, else the
        first one not started (None: the listing was read to its end)."""
        first = self._trail[0][0] if self._trail else self._stopped
        if first is None:
            return None
        key = (first.deleted, first.at)
        done = {
            spot.resource_id
            for spot, future in self._trail
            if future in self._finished and spot.resource_id
        }
        seen = {spot.resource_id for spot in self._skipped}
        done.update(
            s.resource_id for s in self._skipped if (s.deleted, s.at) > key and s.resource_id
        )
        if self.start is not None:  # done earlier and not reached in this link
            done.update(self.start.done - seen)
        return first.position(frozenset(done))
