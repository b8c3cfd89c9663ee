"""Deliver evaluations to Cloud Config in batches, never losing one silently.

Evaluations are buffered and sent ``BATCH_SIZE`` at a time as they are produced (memory stays
flat on long sweeps). A batch that still fails after the client's retries is recorded and the
other batches are still sent; ``close()`` then raises :class:`DeliveryError` naming what was not
delivered, so the invocation fails and FC's retry of the whole event can deliver it.

The sink is plain injection: :class:`ConfigSink` calls PutEvaluations; :class:`MemorySink`
keeps what it receives (tests, ``rulekit invoke``).

Example::

    delivery = Delivery(ConfigSink(config_api, event.result_token))
    for evaluation in evaluations:
        delivery.add(evaluation)
    delivery.close()            # flushes; raises DeliveryError if a batch was lost
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from ._config_api import ConfigApi
from ._errors import ApiError, DeliveryError
from ._evaluation import Evaluation, unencodable

__all__ = ["BATCH_SIZE", "ConfigSink", "Delivery", "MemorySink", "Sink"]

log = logging.getLogger("rulekit.delivery")

#: Evaluations per PutEvaluations call. The platform documents no maximum; 100 is AWS Config's.
BATCH_SIZE = 100


class Sink(Protocol):
    """Where batches of wire-form evaluations go. Raise :class:`ApiError` on failure."""

    def put(self, evaluations: Sequence[dict[str, Any]], *, delete_mode: bool = False) -> None: ...


class ConfigSink:
    """PutEvaluations with the invocation's result token."""

    def __init__(self, config: ConfigApi, result_token: str) -> None:
        self.config = config
        self._token = result_token

    def put(self, evaluations: Sequence[dict[str, Any]], *, delete_mode: bool = False) -> None:
        self.config.put_evaluations(self._token, evaluations, delete_mode=delete_mode)

    def __repr__(self) -> str:
        return f"ConfigSink({self.config.endpoint})"


class MemorySink:
    """Keeps every batch it is given, in order (``batches``), flattened in ``evaluations``."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.delete_modes: list[bool] = []

    def put(self, evaluations: Sequence[dict[str, Any]], *, delete_mode: bool = False) -> None:
        self.batches.append(list(evaluations))
        self.delete_modes.append(delete_mode)

    @property
    def evaluations(self) -> list[dict[str, Any]]:
        return [ev for batch in self.batches for ev in batch]


class Delivery:
    """Buffers evaluations and sends them in batches of at most ``batch_size``."""

    def __init__(self, sink: Sink, batch_size: int = BATCH_SIZE) -> None:
        if not 1 <= batch_size <= BATCH_SIZE:
            raise ValueError(f"batch_size must be 1..{BATCH_SIZE}, got {batch_size}")
        self.sink = sink
        self.batch_size = batch_size
        self.delivered = 0
        self.calls = 0
        self._buffer: list[dict[str, Any]] = []  # wire form: what was lost is named from it
        self._failed: list[tuple[list[dict[str, Any]], ApiError]] = []
        # Evaluations whose resource id, type, region or account cannot be encoded at all.
        self._unreportable: list[dict[str, Any]] = []

    def add(self, evaluation: Evaluation) -> None:
        """Queue one evaluation; sends a batch when the buffer is full."""
        # The wire form now: an incomplete evaluation fails at the rule that produced it.
        wire = evaluation.to_wire()
        field = unencodable(wire)
        if field is not None:  # kept out of its batch, which it would make unsendable
            log.error(
                "cannot report %s %s: its %s holds a lone surrogate",
                evaluation.resource_type,
                evaluation.resource_id,
                field,
            )
            self._unreportable.append(wire)
            return
        self._buffer.append(wire)
        if len(self._buffer) >= self.batch_size:
            self._send(self._buffer, delete_mode=False)
            self._buffer = []

    @property
    def pending(self) -> list[dict[str, Any]]:
        """The evaluations queued for the next batch (wire form)."""
        return list(self._buffer)

    def resume(self, wires: list[dict[str, Any]]) -> None:
        """Queue evaluations already in wire form (what a chained sweep's previous link handed
        over), batched like any others."""
        for wire in wires:
            self._buffer.append(wire)
            if len(self._buffer) >= self.batch_size:
                self._send(self._buffer, delete_mode=False)
                self._buffer = []

    def _send(self, batch: list[dict[str, Any]], *, delete_mode: bool) -> None:
        self.calls += 1
        try:
            try:
                self.sink.put(batch, delete_mode=delete_mode)
            except ApiError:
                raise
            except Exception as exc:  # a sink's bug loses this batch, named like any other
                raise ApiError(
                    f"PutEvaluations could not be sent: {type(exc).__name__}: {exc}",
                    action="PutEvaluations",
                    code="rulekit.SinkError",
                ) from None
        except ApiError as error:
            # Every id, not a sample: the log is what is left of them (no token in it).
            log.error(
                "could not deliver %d evaluation(s) after %d attempt(s): %s; resources: %s",
                len(batch),
                error.attempts,
                error,
                ", ".join(
                    f"{w['complianceResourceType']} {w['complianceResourceId']}" for w in batch
                ),
            )
            self._failed.append((batch, error))
        else:
            self.delivered += len(batch)

    def close(self, *, delete_mode: bool = False, hand_over: bool = False) -> list[dict[str, Any]]:
        """Send what is buffered; ``delete_mode`` goes on this last call only (a sweep that
        evaluated everything). Raises :class:`DeliveryError` if any batch was not delivered.
        ``hand_over``: the partial last batch is not sent but returned (a chained sweep's next
        link sends it), unless a batch was lost: then it is sent and the error raised."""
        if hand_over and not self._failed and not self._unreportable:
            batch, self._buffer = self._buffer, []
            return batch
        if self._buffer or delete_mode:
            batch, self._buffer = self._buffer, []
            # DeleteMode is only safe when every earlier batch landed: otherwise it would delete
            # results that this run did produce but could not deliver.
            self._send(batch, delete_mode=delete_mode and not self._failed)
        if self._failed or self._unreportable:
            lost = [wire for batch, _ in self._failed for wire in batch] + self._unreportable
            undelivered = [
                (wire["complianceResourceType"], wire["complianceResourceId"]) for wire in lost
            ]
            causes = [str(self._failed[0][1])] if self._failed else []
            if self._unreportable:
                causes.append(
                    f"{len(self._unreportable)} cannot be encoded (a lone surrogate in the "
                    "resource id, type, region or account)"
                )
            shown = ", ".join(rid for _, rid in undelivered[:10])
            more = f" and {len(undelivered) - 10} more" if len(undelivered) > 10 else ""
            raise DeliveryError(
                f"{len(undelivered)} evaluation(s) not delivered to Cloud Config "
                f"({self.delivered} delivered): {'; '.join(causes)}; resources: {shown}{more}",
                undelivered=undelivered,
                delivered=self.delivered,
                errors=[error for _, error in self._failed],
            )
        return []
