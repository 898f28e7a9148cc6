"""The sequenced notice stream: what websocket clients must not miss, and how they catch up.

`notice_publish` numbers a message per audience inside the caller's transaction (the audience's
cursor row is locked, so numbers are gap-free and commit in order per audience) and pushes it to the
audience's channel-layer group after commit. The push is best effort; a client that missed it
asks for everything after its last sequence number on reconnect (`notices_since`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .counters import counters_next
from .models import Notice, NoticeCursor
from .push import pushes_after_commit

COMMAND = "command"

_silenced: ContextVar[bool] = ContextVar("notices_silenced", default=False)


@contextmanager
def notices_silenced() -> Iterator[None]:
    """Nobody listens: a simulation replays calls through the real services in a transaction
    that is rolled back, so no notice is numbered, stored or pushed (the services' own writes
    and the timeline are unchanged). Never used on a live path."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def nobody_listens() -> bool:
    """True inside ``notices_silenced``: the notify helpers skip building their frames."""
    return _silenced.get()


def unit_audience(unit_id: int) -> str:
    return f"unit:{unit_id}"


def group_for(audience: str) -> str:
    """Channel-layer group name for an audience (groups allow only [a-zA-Z0-9._-])."""
    return audience.replace(":", ".")


def notice_frame(notice: Notice) -> dict[str, Any]:
    return {**notice.payload, "type": notice.type, "seq": notice.seq}


def _lock_order(audience: str) -> tuple[bool, int, str]:
    """Cursors are taken units first, by id, and the command centre's last (see
    apps.incidents.notify: a unit's cursor is taken only by a transaction holding its row)."""
    unit = audience.removeprefix("unit:")
    return (audience == COMMAND, int(unit) if unit.isdigit() else 0, audience)


@dataclass
class _Together:
    notices: list[Notice] = field(default_factory=list)


_together: ContextVar[_Together | None] = ContextVar("notices_together", default=None)


@contextmanager
def notices_together() -> Iterator[None]:
    """The notices published inside the block, to any audience, are numbered and written
    together when it ends: one statement advances the cursors of all their audiences, one
    INSERT writes them all, and one after-commit callback pushes them in the order they were
    published (a cancel tells the unit's crew twice and the command centre twice: eight
    statements and four pushes before, two and one now). Their `seq` is set then, in publish
    order within an audience. The cursors are taken at the block's end in the lock order
    (`_lock_order`), after every domain row the block locked: enter it inside the caller's
    transaction. A notice whose number is needed at once (the dispatch alert's, kept on its
    Alert row) is published with ``at_once=True``: it is numbered then, with those of its
    audience published before it in the block, so an audience's numbers still follow the order
    it was told in (a diverted unit's phone: the old incident withdrawn, then the new alert)."""
    if _together.get() is not None:
        yield  # inside another block: its end numbers these too
        return
    together = _Together()
    token = _together.set(together)
    try:
        yield
    finally:
        _together.reset(token)
    _number_and_write(together.notices)


def _number_and_write(notices: list[Notice]) -> None:
    """Number `notices` (in order within each audience), insert them and push them after
    commit: one statement for the cursors, taken in the lock order, and one for the rows."""
    if not notices:
        return
    counts: dict[str, int] = {}
    for notice in notices:
        counts[notice.audience] = counts.get(notice.audience, 0) + 1
    ordered = {a: counts[a] for a in sorted(counts, key=_lock_order)}
    with transaction.atomic(savepoint=False):
        last = counters_next(NoticeCursor, key="audience", field="last_seq", steps=ordered)
        following = {a: last[a] - counts[a] for a in counts}
        for notice in notices:
            following[notice.audience] += 1
            notice.seq = following[notice.audience]
        Notice.objects.bulk_create(notices)
    pushes_after_commit(
        [
            (group_for(n.audience), {"type": "notice.push", "frame": notice_frame(n)})
            for n in notices
        ]
    )


def notice_publish(
    *, audience: str, type: str, payload: dict[str, Any], at_once: bool = False
) -> Notice:
    """Append a numbered notice for an audience; it is pushed only if the transaction commits.

    Locks the audience's cursor row until commit. Callers lock their domain rows first
    (incident → unit → unit audience → command audience) so that lock order is the same everywhere.
    Inside `notices_together` the notice is numbered and written at the block's end, unless
    `at_once`.
    """
    notice = Notice(audience=audience, seq=0, type=type, payload=payload, created_at=timezone.now())
    if _silenced.get():
        return notice
    together = _together.get()
    if together is None:
        _number_and_write([notice])
    elif not at_once:
        together.notices.append(notice)
    else:
        earlier = [n for n in together.notices if n.audience == audience]
        together.notices = [n for n in together.notices if n.audience != audience]
        _number_and_write([*earlier, notice])
    return notice


class Payload:
    """Base of the typed event payloads (a frozen dataclass per frame type, dotted `type`)."""

    type: ClassVar[str]

    def body(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.body()}


def publish(audience: str, payload: Payload, *, at_once: bool = False) -> Notice:
    """Number a typed payload for an audience (in the caller's transaction; pushed after commit)."""
    frame = payload.to_dict()
    return notice_publish(audience=audience, type=frame.pop("type"), payload=frame, at_once=at_once)


@dataclass(frozen=True)
class CatchUp:
    """What a reconnecting client gets: the missed frames, or None when it needs a snapshot."""

    frames: list[dict[str, Any]] | None
    head: int


def notices_since(*, audience: str, last_seq: int) -> CatchUp:
    head = (
        NoticeCursor.objects.filter(audience=audience).values_list("last_seq", flat=True).first()
        or 0
    )
    if last_seq > head:
        # The client saw numbers this server never issued (a reset database): start over.
        return CatchUp(frames=None, head=head)
    missed = head - last_seq
    if missed == 0:
        return CatchUp(frames=[], head=head)
    if missed > settings.NOTICE_CATCHUP_MAX:
        return CatchUp(frames=None, head=head)
    rows = list(
        Notice.objects.filter(audience=audience, seq__gt=last_seq, seq__lte=head).order_by("seq")
    )
    if len(rows) != missed:
        return CatchUp(frames=None, head=head)  # some were pruned
    return CatchUp(frames=[notice_frame(n) for n in rows], head=head)


def notices_prune() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.NOTICE_RETENTION_HOURS)
    deleted, _ = Notice.objects.filter(created_at__lt=cutoff).delete()
    return deleted
