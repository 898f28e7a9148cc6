"""The tamper-evident timeline: appending events and verifying the hash chains.

Every stream (one incident, or one unit) is its own chain. Callers append inside the transaction
that changes the entity, with the entity's row locked, so a stream never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from .models import Event, Incident, StreamKind

GENESIS = "0" * 64


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
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: Event) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


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


def verify_streams() -> Iterator[BrokenLink]:
    """Yield the first broken link of each stream whose chain does not verify."""
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
        elif event_hash(event) != event.hash:
            problem = "content does not match its hash (edited)"
        if problem:
            broken_stream = key
            yield BrokenLink(event.stream, event.stream_id, event.seq, event.pk, problem)
            continue
        prev = event.hash
        expected_seq += 1


def stream_heads() -> dict[tuple[str, int], int]:
    return {
        (row["stream"], row["stream_id"]): row["top"]
        for row in Event.objects.values("stream", "stream_id").annotate(top=Max("seq"))
    }
