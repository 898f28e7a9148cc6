"""Celery tasks of the timers. Their names are the ones they had before the apps were split
(apps.incidents.deadline_tasks.*), so messages queued by an older process still run."""

from __future__ import annotations

from celery import shared_task

from apps.incidents.deadlines import DEADLINE_FIRE_TASK
from apps.incidents.models import Deadline

from .escalation import deadline_fire_and_follow_up, redispatch_after_silence
from .sweeper import deadlines_sweep_exclusive


@shared_task(name=DEADLINE_FIRE_TASK, acks_late=True, ignore_result=True)
def deadline_fire_task(deadline_id: int, then: int | None = None) -> None:
    """The fast path: fire one deadline at its due time (a no-op if the sweeper was first), then
    queue the fast path of the next deadline of the same dispatch (`then`) for its due time."""
    deadline_fire_and_follow_up(deadline_id=deadline_id)
    if then is not None:
        due = (
            Deadline.objects.filter(pk=then, fired_at__isnull=True)
            .values_list("due_at", flat=True)
            .first()
        )
        if due is not None:
            deadline_fire_task.apply_async(args=[then], eta=due)


@shared_task(
    name="apps.incidents.deadline_tasks.deadlines_sweep_task", ignore_result=True, expires=10
)
def deadlines_sweep_task() -> int:
    """The safety net run by beat: fire everything due that the fast path missed."""
    return deadlines_sweep_exclusive() or 0


@shared_task(
    name="apps.incidents.deadline_tasks.escalation_redispatch_task",
    acks_late=True,
    ignore_result=True,
)
def escalation_redispatch_task(incident_id: int, silent_unit_id: int) -> None:
    redispatch_after_silence(incident_id=incident_id, silent_unit_id=silent_unit_id)
