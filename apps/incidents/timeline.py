"""The tamper-evident timeline: appending events and verifying the keyed hash chains.

Every stream (one incident, or one unit) is its own chain. Callers append inside the transaction
that changes the entity, with the entity's row locked, so a stream never forks. Each event's
`hash` is an HMAC-SHA256 with TIMELINE_KEY over its content and the previous event's hash:
someone who can write to the database but does not hold the key cannot forge, extend or rehash a
chain. What a chain alone cannot show (its last events deleted, the table emptied) the signed
checkpoints written outside the database show (checkpoints.py); `verify_incident_rows` checks
that each incident row says what its events say.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from .models import Event, Incident, StreamKind

GENESIS = "0" * 64


class UnknownKey(Exception):
    """An event (or checkpoint) names a key this server does not hold."""


def timeline_keys() -> dict[str, bytes]:
    """Key id → key: the current TIMELINE_KEY and the older ones kept for verification."""
    keys = {str(settings.TIMELINE_KEY_ID): str(settings.TIMELINE_KEY).encode()}
    for item in str(settings.TIMELINE_OLD_KEYS or "").split(","):
        key_id, sep, key = item.strip().partition(":")
        if sep and key_id and key:
            keys.setdefault(key_id, key.encode())
    return keys


def sign(message: bytes, *, key_id: str | None = None) -> str:
    key_id = key_id or str(settings.TIMELINE_KEY_ID)
    key = timeline_keys().get(key_id)
    if key is None:
        raise UnknownKey(key_id)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _canonical(event: Event) -> bytes:
    content: dict[str, Any] = {
        "stream": event.stream,
        "stream_id": event.stream_id,
        "seq": event.seq,
        "incident": event.incident_id,
        "unit": event.unit_id,
        "actor": event.actor_id,
        "at": event.at.isoformat(timespec="microseconds"),
        "kind": event.kind,
        "from": event.from_state,
        "to": event.to_state,
        "reason": event.reason,
        "payload": event.payload,
        "prev": event.prev_hash,
    }
    if event.key_id:
        content["key"] = event.key_id
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: Event) -> str:
    """The event's chain hash: HMAC under its key; plain SHA-256 for an event from before keyed
    chains (key_id empty), which the checkpoints confine to the events older than the cutover."""
    if not event.key_id:
        return hashlib.sha256(_canonical(event)).hexdigest()
    return sign(_canonical(event), key_id=event.key_id)


def event_append(
    *,
    stream: StreamKind,
    stream_id: int,
    kind: str,
    at: datetime,
    actor: User | None = None,
    incident: Incident | None = None,
    unit: Any | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event to a stream. The caller holds the lock on the stream's entity row."""
    assert transaction.get_connection().in_atomic_block, "events are written inside the change"
    last = (
        Event.objects.filter(stream=stream, stream_id=stream_id)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    # Round-trip the payload through JSON so that the hash is computed over what is stored.
    clean_payload = json.loads(json.dumps(payload or {}, default=str))
    event = Event(
        stream=stream,
        stream_id=stream_id,
        seq=seq,
        incident=incident,
        unit=unit,
        actor=actor if actor is not None and actor.is_authenticated else None,
        at=at,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        payload=clean_payload,
        prev_hash=prev,
        key_id=str(settings.TIMELINE_KEY_ID),
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    return event


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
