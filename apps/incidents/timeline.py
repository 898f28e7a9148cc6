"""The tamper-evident timeline: appending events and verifying the keyed hash chains.

Every stream (one incident, or one unit) is its own chain. Callers append inside the transaction
that changes the entity, with the entity's row locked, so a stream never forks. Each event's
`hash` is an HMAC-SHA256 with TIMELINE_KEY over its content and the previous event's hash:
someone who can write to the database but does not hold the key cannot forge, extend or rehash a
chain. What a chain alone cannot show (its last events deleted, the table emptied) the signed
checkpoints written outside the database show; verifying all of it is apps/audit's job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from apps.common.prepared import Prepared, insert_many

from .models import Event, Incident, StreamKind

GENESIS = "0" * 64


@dataclass
class _Batch:
    """Events appended but not yet written, and each stream's head (seq, hash) so far."""

    size: int
    heads: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)
    pending: list[Event] = field(default_factory=list)

    def flush(self) -> None:
        if self.pending:
            insert_many(self.pending)
            self.pending = []


_batch: ContextVar[_Batch | None] = ContextVar("timeline_batch", default=None)


@contextmanager
def events_batched(size: int = 2000) -> Iterator[_Batch]:
    """Write the events appended inside in bulk, ``size`` at a time and at the end, with the same
    chain (seq, prev_hash, hash) as one by one. For a single writer that holds every stream it
    appends to for the whole block — the simulation, in its own transaction; nothing else may
    read the events before the block ends or call ``flush()``."""
    batch = _Batch(size=size)
    token = _batch.set(batch)
    try:
        yield batch
        batch.flush()
    finally:
        _batch.reset(token)


# A stream's last event (its seq and hash), read before each append outside a batch: compiled
# once per connection and stream kind (apps/common/prepared.py).
_HEAD = {
    kind: Prepared(
        lambda stream_id, kind=kind: (
            Event.objects.filter(stream=kind, stream_id=stream_id)
            .order_by("-seq")
            .only("seq", "hash")[:1]
        )
    )
    for kind in StreamKind
}


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
    unit_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event to a stream. The caller holds the lock on the stream's entity row."""
    assert transaction.get_connection().in_atomic_block, "events are written inside the change"
    batch = _batch.get()
    last = batch.heads.get((stream, stream_id)) if batch is not None else None
    if last is None:
        head = _HEAD[stream].first(stream_id)
        last = (head.seq, head.hash) if head is not None else None
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    # Round-trip the payload through JSON so that the hash is computed over what is stored.
    clean_payload = json.loads(json.dumps(payload or {}, default=str))
    event = Event(
        stream=stream,
        stream_id=stream_id,
        seq=seq,
        incident=incident,
        unit_id=unit.pk if unit is not None else unit_id,
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
    if batch is not None:
        batch.heads[(stream, stream_id)] = (seq, event.hash)
        batch.pending.append(event)
        if len(batch.pending) >= batch.size:
            batch.flush()
        return event
    event.save(force_insert=True)
    return event
