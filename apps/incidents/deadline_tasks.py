"""Celery tasks for the timers. Registered through CELERY_IMPORTS (tasks.py holds statistics)."""

from __future__ import annotations

from celery import shared_task

from .deadlines import deadline_fire, deadlines_sweep
from .realtime_models import Deadline


@shared_task(acks_late=True, ignore_result=True)
def deadline_fire_task(deadline_id: int, then: int | None = None) -> None:
    """The fast path: fire one deadline at its due time (a no-op if the sweeper was first), then
    queue the fast path of the next deadline of the same dispatch (`then`) for its due time."""
    deadline_fire(deadline_id=deadline_id)
    if then is not None:
        due = (
            Deadline.objects.filter(pk=then, fired_at__isnull=True)
            .values_list("due_at", flat=True)
            .first()
        )
        if due is not None:
            deadline_fire_task.apply_async(args=[then], eta=due)


@shared_task(ignore_result=True, expires=10)
def deadlines_sweep_task() -> int:
    """The safety net run by beat: fire everything due that the fast path missed."""
    return deadlines_sweep()


@shared_task(acks_late=True, ignore_result=True)
def escalation_redispatch_task(incident_id: int, silent_unit_id: int) -> None:
    from .escalation import redispatch_after_silence

    redispatch_after_silence(incident_id=incident_id, silent_unit_id=silent_unit_id)
