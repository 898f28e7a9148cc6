"""Signed checkpoints of the timeline, appended outside the database.

A keyed chain shows an edited or forged event, but not its own end cut off, nor the whole table
emptied: an owner of the database could delete the last events of a stream, or every row. So beat
appends, every TIMELINE_CHECKPOINT_S, one line to TIMELINE_CHECKPOINT_FILE (a file the database
owner cannot write): the head (seq, hash) of every stream that moved since the line before, the
totals of events and incidents, and the last unkeyed event id (the cutover to keyed chains). Each
line carries an HMAC over its content and the previous line's HMAC, so lines cannot be forged,
edited, reordered or dropped from the middle without the key.

`checkpoints_verify` replays the lines and checks the database against the last state they
describe: every recorded head still there with its hash, no fewer events or incidents.
"""

from __future__ import annotations

import fcntl
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from apps.incidents.models import Event, Incident
from apps.incidents.timeline import UnknownKey, sign

GENESIS = "0" * 64


def _path() -> Path:
    return Path(settings.TIMELINE_CHECKPOINT_FILE)


def _body(line: dict[str, Any]) -> bytes:
    content = {k: v for k, v in line.items() if k != "mac"}
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class CheckpointState:
    """What the checkpoint lines say, replayed in order."""

    lines: int = 0
    last_mac: str = GENESIS
    max_event_id: int = 0
    events: int = 0
    incidents: int = 0
    legacy_max_id: int | None = None
    heads: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def checkpoints_read(path: Path | None = None) -> CheckpointState:
    state = CheckpointState()
    path = path or _path()
    if not path.exists():
        return state
    with path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = json.loads(raw)
                expected = sign(_body(line), key_id=line.get("key"))
            except (ValueError, UnknownKey) as exc:
                state.problems.append(f"checkpoint line {number} unreadable: {exc!r}")
                break
            if not hmac.compare_digest(expected, str(line.get("mac"))):
                state.problems.append(f"checkpoint line {number}: signature does not verify")
                break
            if line.get("prev") != state.last_mac or line.get("n") != number:
                state.problems.append(f"checkpoint line {number}: out of order or one dropped")
                break
            state.lines = number
            state.last_mac = line["mac"]
            state.max_event_id = int(line["max_event_id"])
            state.events = int(line["events"])
            state.incidents = int(line["incidents"])
            if state.legacy_max_id is None:
                state.legacy_max_id = int(line["legacy_max_id"])
            for stream, stream_id, seq, digest in line["heads"]:
                state.heads[(stream, int(stream_id))] = (int(seq), str(digest))
    return state


def checkpoint_write(*, now: datetime | None = None, path: Path | None = None) -> dict[str, Any]:
    """Append one checkpoint line (beat, every TIMELINE_CHECKPOINT_S). Returns it.

    An exclusive lock on the file keeps two writers from interleaving."""
    now = now or timezone.now()
    path = path or _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            state = checkpoints_read(path)
            if state.problems:
                raise RuntimeError("; ".join(state.problems))
            top = Event.objects.aggregate(top=Max("pk"))["top"] or 0
            # A stream that moved has its head among the events added since the last line: one
            # ordered read of those, the last of each stream kept.
            new_events = (
                Event.objects.filter(pk__gt=state.max_event_id, pk__lte=top)
                .order_by("stream", "stream_id", "seq")
                .values_list("stream", "stream_id", "seq", "hash")
            )
            latest: dict[tuple[str, int], list[Any]] = {}
            for stream, stream_id, seq, digest in new_events.iterator(chunk_size=5000):
                latest[(stream, stream_id)] = [stream, stream_id, seq, digest]
            heads = list(latest.values())
            legacy = state.legacy_max_id
            if legacy is None:
                legacy = Event.objects.filter(key_id="").aggregate(top=Max("pk"))["top"] or 0
            line: dict[str, Any] = {
                "n": state.lines + 1,
                "at": now.isoformat(),
                "prev": state.last_mac,
                "key": str(settings.TIMELINE_KEY_ID),
                "max_event_id": top,
                "events": Event.objects.filter(pk__lte=top).count(),
                "incidents": Incident.objects.count(),
                "legacy_max_id": legacy,
                "heads": heads,
            }
            line["mac"] = sign(_body(line))
            fh.seek(0, 2)
            fh.write(json.dumps(line, separators=(",", ":")) + "\n")
            fh.flush()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return line


def checkpoints_verify(state: CheckpointState) -> Iterator[str]:
    """The differences between the database and the last checkpointed state."""
    yield from state.problems
    if not state.lines:
        return
    events = Event.objects.count()
    if events < state.events:
        yield f"{state.events - events} event(s) fewer than at the last checkpoint (deleted)"
    incidents = Incident.objects.count()
    if incidents < state.incidents:
        yield f"{state.incidents - incidents} incident(s) fewer than at the last checkpoint"
    # One pass over the timeline for every checkpointed head, not one query per stream.
    found_at: dict[tuple[str, int], str] = {}
    rows = Event.objects.values_list("stream", "stream_id", "seq", "hash")
    for stream, stream_id, seq, digest in rows.iterator(chunk_size=5000):
        head = state.heads.get((stream, stream_id))
        if head is not None and head[0] == seq:
            found_at[(stream, stream_id)] = digest
    for (stream, stream_id), (seq, digest) in sorted(state.heads.items()):
        found = found_at.get((stream, stream_id))
        if found is None:
            yield f"{stream}:{stream_id} seq {seq} checkpointed but missing (deleted)"
        elif found != digest:
            yield f"{stream}:{stream_id} seq {seq} differs from its checkpoint (rewritten)"
