"""The safety net of the 1-3-5 minute timers: fire every deadline that is due and unfired.

Run by Celery beat every DEADLINE_SWEEP_S (apps/realtime/tasks.py), or by the in-process loop of
the embedded setup (cad_project/embedded.py). Each deadline fires in its own short transaction;
a row another path holds is skipped (it is being fired there).
"""

from __future__ import annotations

import logging
from datetime import datetime

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
