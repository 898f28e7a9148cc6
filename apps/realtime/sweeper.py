"""The safety net of the 1-3-5 minute timers: fire every deadline that is due and unfired.

It runs where it cannot silently stop: in every daphne process (cad_project/embedded.py, with
DEADLINE_SWEEP_IN_WEB, the default) and from Celery beat (apps/realtime/tasks.py), so a dead
Celery worker or a Redis outage delays no deadline. `deadlines_sweep_exclusive` lets one of them
sweep at a time (a PostgreSQL advisory lock; the others skip that round). Correctness does not
rest on the lock: each deadline fires in its own short transaction, claimed under a row lock
(a row another path holds is skipped: it is being fired there), so each fires exactly once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.incidents.models import Deadline

from .escalation import deadline_fire_and_follow_up

log = logging.getLogger(__name__)


def deadlines_sweep(*, limit: int = 200, now: datetime | None = None) -> int:
    """Fire what is due. Returns how many fired."""
    now = now or timezone.now()
    due = list(
        Deadline.objects.filter(fired_at__isnull=True, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    fired = 0
    for pk in due:
        try:
            if deadline_fire_and_follow_up(deadline_id=pk, now=now) is not None:
                fired += 1
        except Exception:  # one bad row must not stop the sweep; it is retried next round
            log.exception("deadline %s failed to fire", pk)
    return fired


# pg_advisory_lock key of the sweep ("SWEEP" in ASCII).
SWEEP_LOCK_KEY = 0x5357454550


def deadlines_sweep_exclusive(*, limit: int = 200, now: datetime | None = None) -> int | None:
    """Sweep unless another process is sweeping now (PostgreSQL; elsewhere always sweep).
    Returns how many fired, or None when the round was left to the process holding the lock."""
    if connection.vendor != "postgresql":
        return deadlines_sweep(limit=limit, now=now)
    # A session lock, held by this thread's connection for the sweep only; a crashed process's
    # connection closes and frees it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCK_KEY])
        got = bool(cursor.fetchone()[0])
    if not got:
        return None
    try:
        return deadlines_sweep(limit=limit, now=now)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK_KEY])
