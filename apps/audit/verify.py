"""Verifying the timeline: the keyed chains, stream by stream, and every incident row against
what its own events say (apps/incidents/timeline.py writes them)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

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


def _incident_streams() -> Iterator[tuple[int, list[Event]]]:
    """Every incident stream's events, in order, one stream at a time (one pass, one query)."""
    events = (
        Event.objects.filter(stream=StreamKind.INCIDENT)
        .order_by("stream_id", "seq")
        .only("stream_id", "kind", "to_state", "at", "payload", "seq")
        .iterator(chunk_size=2000)
    )
    for stream_id, group in groupby(events, key=lambda e: e.stream_id):
        yield stream_id, list(group)


def _row_problem(incident: Incident, events: list[Event]) -> str | None:
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
        return f"status {incident.status!r}, events say {status!r}"
    if unit is not None and incident.unit_id != unit:
        return f"unit {incident.unit_id}, events say {unit}"
    for field, at in stamps.items():
        if getattr(incident, field) != at:
            return f"{field} differs from its event's time"
    return None


def verify_incident_rows() -> Iterator[RowMismatch]:
    """Each live incident row against its own events: status and unit from the last transition,
    the stage times from the events that set them. (Imported history has no events: skipped.)

    Two ordered passes merged (incidents by id, their streams by id): two queries whatever the
    number of incidents."""
    streams = _incident_streams()
    current = next(streams, None)
    incidents = Incident.objects.filter(imported=False).order_by("pk")
    for incident in incidents.iterator(chunk_size=2000):
        while current is not None and current[0] < incident.pk:
            current = next(streams, None)
        if current is None or current[0] != incident.pk:
            yield RowMismatch(incident.pk, incident.number, "no events: not written by the system")
            continue
        problem = _row_problem(incident, current[1])
        if problem is not None:
            yield RowMismatch(incident.pk, incident.number, problem)
