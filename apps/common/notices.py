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

from .counters import counter_next
from .models import Notice, NoticeCursor
from .push import push_after_commit

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


@dataclass
class _Together:
    audience: str
    notices: list[Notice] = field(default_factory=list)


_together: ContextVar[_Together | None] = ContextVar("notices_together", default=None)


@contextmanager
def notices_together(audience: str) -> Iterator[None]:
    """The notices published to `audience` inside the block are numbered and written together
    when it ends: one counter statement and one INSERT for all of them, in their order (a
    dispatch tells the command centre twice, the unit's status and the incident's). Their `seq`
    is set then. The audience's cursor is taken at the end of the block, after those of the
    audiences published to inside it: enter it inside the caller's transaction, for the audience
    that comes last in the lock order (the command centre's)."""
    together = _Together(audience)
    token = _together.set(together)
    try:
        yield
    finally:
        _together.reset(token)
    if not together.notices:
        return
    with transaction.atomic(savepoint=False):
        count = len(together.notices)
        last = counter_next(NoticeCursor, key={"audience": audience}, field="last_seq", step=count)
        for seq, notice in enumerate(together.notices, last - count + 1):
            notice.seq = seq
        Notice.objects.bulk_create(together.notices)
    for notice in together.notices:
        push_after_commit(
            group_for(audience), {"type": "notice.push", "frame": notice_frame(notice)}
        )


def notice_publish(*, audience: str, type: str, payload: dict[str, Any]) -> Notice:
    """Append a numbered notice for an audience; it is pushed only if the transaction commits.

    Locks the audience's cursor row until commit. Callers lock their domain rows first
    (incident → unit → unit audience → command audience) so that lock order is the same everywhere.
    Inside `notices_together(audience)` the notice is numbered and written at the block's end.
    """
    if _silenced.get():
        return Notice(audience=audience, seq=0, type=type, payload=payload)
    together = _together.get()
    if together is not None and together.audience == audience:
        notice = Notice(
            audience=audience, seq=0, type=type, payload=payload, created_at=timezone.now()
        )
        together.notices.append(notice)
        return notice
    with transaction.atomic(savepoint=False):
        seq = counter_next(NoticeCursor, key={"audience": audience}, field="last_seq")
        notice = Notice.objects.create(
            audience=audience, seq=seq, type=type, payload=payload, created_at=timezone.now()
        )
    push_after_commit(group_for(audience), {"type": "notice.push", "frame": notice_frame(notice)})
    return notice


class Payload:
    """Base of the typed event payloads (a frozen dataclass per frame type, dotted `type`)."""

    type: ClassVar[str]

    def body(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.body()}


def publish(audience: str, payload: Payload) -> Notice:
    """Number a typed payload for an audience (in the caller's transaction; pushed after commit)."""
    frame = payload.to_dict()
    return notice_publish(audience=audience, type=frame.pop("type"), payload=frame)


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
