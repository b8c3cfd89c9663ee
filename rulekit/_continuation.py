"""Chained sweeps: a sweep that cannot finish before its invocation's deadline hands the rest to a
new asynchronous invocation of the same function (``RULEKIT_CONTINUE=1``; docs/sweeps.md,
"Past one invocation's time limit").

The hand-over is an event for the function itself: Cloud Config's own event (its result token,
rule parameters and ordering timestamp, so every link reports with the same token and the same
``orderingTimestamp``) plus a ``rulekitContinuation`` member: the chain id, the link number,
where the listing stopped (:class:`Position`), the evaluations produced but not yet sent (fewer
than one PutEvaluations batch: the chain makes exactly as many calls as one long invocation
would) and the earlier links' counts. It is validated like the platform's events (EventError),
carries a result token (so it is never logged) and must fit FC's 128 KB async payload.

Example::

    state = read_continuation(decoded)             # None: Cloud Config's own event
    chain = Chain(decoded, state, options, invoker)
    if not chain.hand_over(sweep, result, delivery):
        delivery.close(delete_mode=result.delete_mode)
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ._endpoints import resolve_endpoint
from ._errors import ApiError, ConfigurationError, EventError
from ._event import CONTINUATION_KEY
from ._fc_api import MAX_ASYNC_PAYLOAD, FunctionApi
from ._position import Position
from ._redact import shown

if TYPE_CHECKING:
    from ._delivery import Delivery, Sink
    from ._event import ConfigEvent
    from ._invocation import InvocationResult
    from ._settings import SweepOptions
    from ._sweep import Sweep

__all__ = ["Chain", "Continuation", "Invoker", "Position", "invoker_for", "read_continuation"]

log = logging.getLogger("rulekit.chain")

FORMAT = 1
_CHAIN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
#: Room kept under FC's limit for the JSON around what is measured.
_PAYLOAD_MARGIN = 1024


@dataclass(frozen=True)
class Continuation:
    """What a continuation event says about the chain: ``link`` is this invocation's number
    (Cloud Config's own invocation is link 1)."""

    chain_id: str
    link: int
    position: Position
    evaluations: list[dict[str, Any]]
    resources: int
    errors: int
    deleted_window: tuple[int, int] | None


def _bad(what: str) -> EventError:
    return EventError(f"{CONTINUATION_KEY}: {what}")


def _count(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(f"{name} must be a whole number >= {minimum}, got {shown(value, 40)}")
    return value


def _optional_text(value: Any, name: str) -> str | None:
    if value is not None and not (isinstance(value, str) and value):
        raise _bad(f"{name} must be text or null, got {shown(value, 40)}")
    return value


def _position(raw: Any) -> Position:
    if not isinstance(raw, Mapping):
        raise _bad("position must be an object")
    listing = raw.get("listing")
    if listing not in ("retained", "deleted"):
        raise _bad(f"position.listing must be 'retained' or 'deleted', got {shown(listing, 40)}")
    index = _count(raw.get("index"), "position.index")
    page_start = _count(raw.get("pageStart"), "position.pageStart")
    if page_start > index:
        raise _bad(f"position.pageStart ({page_start}) is past position.index ({index})")
    done = raw.get("done")
    if not isinstance(done, list) or not all(isinstance(i, str) and i for i in done):
        raise _bad("position.done must be a list of resource ids")
    return Position(
        listing == "deleted",
        index,
        _optional_text(raw.get("token"), "position.token"),
        page_start,
        _optional_text(raw.get("anchor"), "position.anchor"),
        frozenset(done),
    )


def _carried(raw: Any) -> list[dict[str, Any]]:
    from ._delivery import BATCH_SIZE

    if not isinstance(raw, list) or len(raw) >= BATCH_SIZE:
        raise _bad(f"evaluations must be a list of fewer than {BATCH_SIZE} evaluations")
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) and item.get(k)
            for k in ("complianceResourceId", "complianceResourceType", "complianceType")
        ):
            raise _bad(f"evaluations[{n}] is not an evaluation in PutEvaluations' form")
    return raw


def read_continuation(event: ConfigEvent) -> Continuation | None:
    """The chain state a continuation event carries (None for Cloud Config's own events);
    EventError names what is malformed, before anything is evaluated or sent."""
    raw = event.raw.get(CONTINUATION_KEY)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise _bad(f"must be an object, got {type(raw).__name__}")
    if raw.get("version") != FORMAT:
        raise _bad(f"version {shown(raw.get('version'), 20)} is not {FORMAT}")
    if event.resource is not None or not event.periodic:
        raise _bad("only a periodic sweep (ScheduledNotification without an item) continues")
    chain_id = raw.get("chainId")
    if not isinstance(chain_id, str) or not _CHAIN_ID.fullmatch(chain_id):
        raise _bad(f"chainId must be 1-64 letters, digits or '-', got {shown(chain_id, 40)}")
    window = raw.get("deletedWindow")
    if window is not None and not (
        isinstance(window, list)
        and len(window) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in window)
    ):
        raise _bad("deletedWindow must be null or [start, end] in milliseconds")
    return Continuation(
        chain_id=chain_id,
        link=_count(raw.get("link"), "link", minimum=2),
        position=_position(raw.get("position")),
        evaluations=_carried(raw.get("evaluations", [])),
        resources=_count(raw.get("resources"), "resources"),
        errors=_count(raw.get("errors"), "errors"),
        deleted_window=(window[0], window[1]) if window is not None else None,
    )


class _LaterLinkSink:
    """A later link's sink: Cloud Config's result token is used again in another invocation,
    and whether it stays valid there is not documented (a rejection may be ``Result: false``
    or an error code): a failure says so, loudly, with the chain and link."""

    def __init__(self, sink: Sink, chain_id: str, link: int) -> None:
        self.sink, self.chain_id, self.link = sink, chain_id, link

    def put(self, evaluations: Sequence[dict[str, Any]], *, delete_mode: bool = False) -> None:
        try:
            self.sink.put(evaluations, delete_mode=delete_mode)
        except ApiError as error:
            if not error.retryable:
                error.args = (
                    f"{error}; in link {self.link} of chained sweep {self.chain_id}, with the "
                    "result token of the rule's first invocation: Cloud Config may have "
                    "rejected it as expired (its lifetime is not documented)",
                )
                log.error("chain %s link %d: %s", self.chain_id, self.link, error)
            raise


class Invoker(NamedTuple):
    """How a link invokes its own function: FC's API, the function's name and qualifier."""

    fc: FunctionApi
    function: str
    qualifier: str | None


class Chain:
    """One invocation's part in a chained sweep: where it starts (``start``), what the link
    before it left to send (``carried``), and the hand-over to the next link."""

    def __init__(
        self,
        event: ConfigEvent,
        state: Continuation | None,
        options: SweepOptions,
        invoker: Invoker | None,
    ) -> None:
        self.event = event
        self.state = state
        self.options = options
        self.invoker = invoker  # None: this link does not hand over (RULEKIT_CONTINUE off)
        self.chain_id = state.chain_id if state else uuid.uuid4().hex[:24]
        self.link = state.link if state else 1
        if state is not None:
            log.info(
                "chain %s link %d: resuming at %s index %d (%d resource(s) evaluated before)",
                self.chain_id,
                self.link,
                "deleted" if state.position.deleted else "retained",
                state.position.at,
                state.resources,
            )

    @property
    def start(self) -> Position | None:
        return self.state.position if self.state else None

    @property
    def deleted_window(self) -> tuple[int, int] | None:
        return self.state.deleted_window if self.state else None

    @property
    def may_hand_over(self) -> bool:
        """Whether this link hands what it leaves to a next one (chaining on, bound not hit)."""
        return self.invoker is not None and self.link < self.options.max_links

    @property
    def clean(self) -> bool:
        """No earlier link had a resource in error (DeleteMode needs a clean chain)."""
        return self.state is None or self.state.errors == 0

    def resume(self, delivery: Delivery) -> None:
        """Queue what the previous link evaluated but left to this one to send; a later link's
        PutEvaluations errors say that the token is reused (it may be why they fail)."""
        if self.state is None:
            return
        delivery.sink = _LaterLinkSink(delivery.sink, self.chain_id, self.link)
        if self.state.evaluations:
            delivery.resume(self.state.evaluations)

    def summary(self, result: InvocationResult, handed_over: bool) -> dict[str, Any]:
        before = (self.state.resources, self.state.errors) if self.state else (0, 0)
        out: dict[str, Any] = {
            "chainId": self.chain_id,
            "link": self.link,
            "resources": before[0] + result.resources,
            "errors": before[1] + result.errors,
        }
        if handed_over:
            out["next"] = self.link + 1
        return out

    def hand_over(
        self,
        sweep: Sweep,
        result: InvocationResult,
        delivery: Delivery,
        failure: Exception | None = None,
    ) -> bool:
        """Send what is left to the next link if this one stopped for time; False when it has
        nothing to hand over (the sweep completed, the chain is at its bound, or chaining is
        off), then the caller closes delivery as usual. Raises DeliveryError (a batch of this
        link was lost: the link fails and FC retries it) or the InvokeFunction ApiError (after
        the carried evaluations were delivered here, so nothing evaluated is lost). A link whose
        listing failed (``failure``) does not hand over."""
        cut = sweep.cut
        if result.complete or cut is None or failure is not None or self.invoker is None:
            return False  # (a failed listing fails the link: FC retries it from its start)
        if result.resources == 0:
            # Not one resource fitted in this link (a reserve as long as the timeout): the next
            # would start at the same place, and so on to the bound. Stop and say so instead.
            log.error(
                "chain %s: link %d evaluated nothing before its deadline (RULEKIT_SWEEP_RESERVE "
                "too long for the function's timeout?); not handing over",
                self.chain_id,
                self.link,
            )
            return False
        if self.link >= self.options.max_links:  # (also: the sweep warned)
            log.error(
                "chain %s: link %d is the last RULEKIT_CONTINUE_MAX_LINKS allows; "
                "the sweep stops here",
                self.chain_id,
                self.link,
            )
            return False
        body = self._event(cut, sweep, result, delivery.pending)
        if len(body) > MAX_ASYNC_PAYLOAD - _PAYLOAD_MARGIN:
            # Annotations near their 1,024-character bound: send the last partial batch here
            # (one call more) rather than a continuation FC would refuse.
            log.info("chain %s: evaluations sent here, too large to hand over", self.chain_id)
            delivery.close()
            body = self._event(cut, sweep, result, [])
        carried = delivery.close(hand_over=True)
        task = f"rulekit-{self.chain_id}-{self.link + 1}"
        invoker = self.invoker
        try:
            taken = invoker.fc.invoke_async(
                invoker.function, body, qualifier=invoker.qualifier, task_id=task
            )
        except ApiError:
            delivery.resume(carried)  # nothing evaluated is lost: sent here, then the error
            delivery.close()
            raise
        log.info(
            "chain %s: link %d handed over to link %d at %s index %d (%d evaluation(s) carried)%s",
            self.chain_id,
            self.link,
            self.link + 1,
            "deleted" if cut.deleted else "retained",
            cut.at,
            len(carried),
            "" if taken else "; FC already held that hand-over (this link ran again)",
        )
        return True

    def _event(
        self,
        cut: Position,
        sweep: Sweep,
        result: InvocationResult,
        carried: list[dict[str, Any]],
    ) -> bytes:
        body = {key: value for key, value in self.event.raw.items() if key != CONTINUATION_KEY}
        # The same ordering timestamp in every link, whatever the original event carried.
        body["orderingTimestamp"] = self.event.ordering_timestamp
        counts = self.summary(result, handed_over=False)
        body[CONTINUATION_KEY] = {
            "version": FORMAT,
            "chainId": self.chain_id,
            "link": self.link + 1,
            "position": cut.to_json(),
            "evaluations": carried,
            "resources": counts["resources"],
            "errors": counts["errors"],
            "deletedWindow": list(sweep.deleted_window) if sweep.deleted_window else None,
        }
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def invoker_for(context: Any, env: Mapping[str, str], fc: Callable[[str], FunctionApi]) -> Invoker:
    """This function's own name, qualifier and FC endpoint, from the FC context (Python 3.10:
    ``context.service.qualifier``; 3.12: ``context.function.qualifier``) or FC's environment
    variables; ``fc(endpoint)`` builds the client. ConfigurationError names what is missing."""
    function = getattr(context, "function", None)
    name = getattr(function, "name", None) or env.get("FC_FUNCTION_NAME")
    region = getattr(context, "region", None) or env.get("FC_REGION")
    account = getattr(context, "account_id", None) or env.get("FC_ACCOUNT_ID")
    qualifier = getattr(function, "qualifier", None) or getattr(
        getattr(context, "service", None), "qualifier", None
    )
    if not name:
        raise ConfigurationError(
            "RULEKIT_CONTINUE needs the function's own name to invoke it "
            "(context.function.name or FC_FUNCTION_NAME): none given"
        )
    if env.get("RULEKIT_FC_ENDPOINT") or env.get("RULEKIT_ENDPOINT"):
        endpoint = resolve_endpoint("FC", str(region or ""), env)
    elif region and account:
        # FC 3.0's endpoint per its documentation ("Endpoints"); the SDK's map says fcv3.<region>.
        endpoint = f"{account}.{region}.fc.aliyuncs.com"
    else:
        raise ConfigurationError(
            "RULEKIT_CONTINUE needs the function's region and account to reach FC "
            "(context.region / FC_REGION, context.account_id / FC_ACCOUNT_ID)"
        )
    return Invoker(fc(endpoint), str(name), str(qualifier) if qualifier else None)
