"""Celery tasks of the audit: the timeline's checkpoints (beat; the task keeps its first name)."""

from __future__ import annotations

from celery import shared_task

from .checkpoints import checkpoint_write


@shared_task(name="incidents.timeline_checkpoint", ignore_result=True)
def timeline_checkpoint_task() -> int:
    """Append a signed checkpoint of every stream head outside the database."""
    return int(checkpoint_write()["n"])
