"""Celery tasks for the timers. Registered through CELERY_IMPORTS (tasks.py holds statistics)."""

from __future__ import annotations

from celery import shared_task

from .deadlines import deadline_fire, deadlines_sweep


@shared_task(acks_late=True, ignore_result=True)
def deadline_fire_task(deadline_id: int) -> None:
    """The fast path: fire one deadline at its due time (a no-op if the sweeper was first)."""
    deadline_fire(deadline_id=deadline_id)


@shared_task(ignore_result=True, expires=10)
def deadlines_sweep_task() -> int:
    """The safety net run by beat: fire everything due that the fast path missed."""
    return deadlines_sweep()


@shared_task(acks_late=True, ignore_result=True)
def escalation_redispatch_task(incident_id: int, silent_unit_id: int) -> None:
    from .escalation import redispatch_after_silence

    redispatch_after_silence(incident_id=incident_id, silent_unit_id=silent_unit_id)
