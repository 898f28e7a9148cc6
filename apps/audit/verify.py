"""Verifying the timeline: the keyed chains, stream by stream, and every incident row against
what its own events say (apps/incidents/timeline.py writes them)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Max

from apps.incidents.models import Event, Incident, StreamKind
from apps.incidents.timeline import GENESIS, UnknownKey, event_hash


@dataclass(frozen=True)
class BrokenLink:
    stream: str
    stream_id: int
    seq: int
    event_id: int
    problem: str


def verify_streams(*, legacy_max_id: int | None = None) -> Iterator[BrokenLink]:
    """Yield the first broken link of each stream whose chain does not verify.

    `legacy_max_id`: the last event id from before keyed chains (from the checkpoints); an
    unkeyed event after it is a forgery. None: no cutover known yet (unkeyed events accepted).
    """
    current: tuple[str, int] | None = None
    prev = GENESIS
    expected_seq = 1
    broken_stream: tuple[str, int] | None = None
    for event in Event.objects.order_by("stream", "stream_id", "seq").iterator(chunk_size=2000):
        key = (event.stream, event.stream_id)
        if key != current:
            current, prev, expected_seq = key, GENESIS, 1
        if key == broken_stream:
            continue
        problem = None
        if event.seq != expected_seq:
            problem = f"sequence gap: expected {expected_seq}, found {event.seq}"
        elif event.prev_hash != prev:
            problem = "previous-hash link does not match the preceding event"
        elif not event.key_id and legacy_max_id is not None and event.pk > legacy_max_id:
            problem = "unkeyed event after the keyed cutover (forged)"
        else:
            try:
                ok = hmac.compare_digest(event_hash(event), event.hash)
            except UnknownKey:
                problem = f"signed with an unknown key {event.key_id!r}"
            else:
                if not ok:
                    problem = "content does not match its hash (edited or forged)"
        if problem:
            broken_stream = key
            yield BrokenLink(event.stream, event.stream_id, event.seq, event.pk, problem)
            continue
        prev = event.hash
        expected_seq += 1


# What each incident-stream event kind sets on the incident row: the stamp it writes.
_STAMPS: dict[str, str] = {
    "received": "received_at",
    "dispatched": "dispatched_at",
    "acknowledge": "acknowledged_at",
    "en_route": "en_route_at",
    "arrive": "arrived_at",
    "resolved": "closed_at",
    "cancelled": "closed_at",
    "transfer_received": "transfer_received_at",
}


@dataclass(frozen=True)
class RowMismatch:
    incident_id: int
    number: str
    problem: str


def verify_incident_rows() -> Iterator[RowMismatch]:
    """Each live incident row against its own events: status and unit from the last transition,
    the stage times from the events that set them. (Imported history has no events: skipped.)"""
    incidents = Incident.objects.filter(imported=False).order_by("pk")
    for incident in incidents.iterator(chunk_size=500):
        events = list(
            Event.objects.filter(stream=StreamKind.INCIDENT, stream_id=incident.pk)
            .order_by("seq")
            .only("kind", "to_state", "at", "payload", "seq")
        )
        if not events:
            yield RowMismatch(incident.pk, incident.number, "no events: not written by the system")
            continue
        status = ""
        unit: int | None = None
        stamps: dict[str, Any] = {}
        for event in events:
            if event.to_state:
                status = event.to_state
            if event.kind == "dispatched":
                unit = event.payload.get("unit")
            if event.kind == "unassigned":
                unit = None
                stamps.update(dispatched_at=None, acknowledged_at=None, en_route_at=None)
            if event.kind in _STAMPS:
                stamps[_STAMPS[event.kind]] = event.at
        if incident.status != status:
            yield RowMismatch(
                incident.pk, incident.number, f"status {incident.status!r}, events say {status!r}"
            )
            continue
        if unit is not None and incident.unit_id != unit:
            yield RowMismatch(
                incident.pk, incident.number, f"unit {incident.unit_id}, events say {unit}"
            )
            continue
        for field, at in stamps.items():
            if getattr(incident, field) != at:
                yield RowMismatch(
                    incident.pk, incident.number, f"{field} differs from its event's time"
                )
                break


def stream_heads() -> dict[tuple[str, int], int]:
    return {
        (row["stream"], row["stream_id"]): row["top"]
        for row in Event.objects.values("stream", "stream_id").annotate(top=Max("seq"))
    }
