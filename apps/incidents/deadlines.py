"""The 1-3-5 minute timers, kept in the database and fired exactly once.

- `deadlines_schedule` (inside the dispatch transaction) writes the acknowledge deadline
  (TARGET_ACKNOWLEDGE_S after dispatch) and the arrival deadline (TARGET_ARRIVAL_PRIORITY_ZONE_S in
  a priority-zone cell, TARGET_ARRIVAL_S elsewhere), and after commit queues the Celery countdown
  task by its name (DEADLINE_FIRE_TASK, in apps/realtime/tasks.py) — only the fast path.
- The sweeper (apps/realtime/sweeper.py: Celery beat every DEADLINE_SWEEP_S, or the in-process
  loop of the embedded setup) fires every deadline that is due and unfired.
- `deadline_fire` claims the row with SELECT … FOR UPDATE SKIP LOCKED and `fired_at IS NULL`, so
  whichever path comes first resolves it and the other finds nothing to do. What follows a missed
  acknowledge outside this transaction (texts, re-dispatch) is apps/realtime/escalation.py's.

Other services never lock deadline rows: a deadline checks, when it fires, whether its condition was
met (the unit acknowledged / arrived) or superseded (the incident went to another unit or closed).
Lock order here is deadline → incident → unit, the same incident → unit order as everywhere else.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.notices import notices_together
from apps.common.prepared import Prepared, insert, save_fields
from apps.common.push import after_commit

from .models import (
    SHORT_ARRIVAL_PRIORITIES,
    AssignmentRole,
    Deadline,
    DeadlineKind,
    DeadlineOutcome,
    Incident,
    IncidentAssignment,
    IncidentStatus,
    StreamKind,
)
from .notify import notify_target_missed
from .timeline import event_append

# The fast path's Celery task, queued by name: it lives in the realtime app, a layer above this
# one. The name is the one it had before the apps were split, so queued messages still run.
DEADLINE_FIRE_TASK = "apps.incidents.deadline_tasks.deadline_fire_task"

# The incident row, locked, with its grid cell, which sets the arrival target (FOR UPDATE OF the
# incident only: PostgreSQL refuses to lock the nullable side of the join). Compiled once per
# connection (apps/common/prepared.py); the dispatch locks the incident with it too.
LOCKED_INCIDENT_WITH_CELL = Prepared(
    lambda pk: (
        Incident.objects.select_for_update(of=("self",)).select_related("grid_cell").filter(pk=pk)
    )
)

# An unfired deadline claimed, with the assignment it judges (its row is not locked).
_CLAIMED_DEADLINE = Prepared(
    lambda pk: (
        Deadline.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("assignment")
        .filter(pk=pk, fired_at__isnull=True)
    )
)

_AWAITING_ACK = (IncidentStatus.DISPATCHED,)
_AWAITING_ARRIVAL = (
    IncidentStatus.DISPATCHED,
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.EN_ROUTE,
)


def arrival_target_s(incident: Incident) -> int:
    """The arrival target: the shorter (3-minute) one in a priority-zone cell and for every
    priority-1 (紧急) incident, the 5-minute one otherwise."""
    cell = incident.grid_cell
    if incident.priority in SHORT_ARRIVAL_PRIORITIES or (cell is not None and cell.priority_zone):
        return int(settings.TARGET_ARRIVAL_PRIORITY_ZONE_S)
    return int(settings.TARGET_ARRIVAL_S)


def deadlines_schedule(*, incident: Incident, assignment: IncidentAssignment) -> list[Deadline]:
    """Write the acknowledge and arrival deadlines of one unit's dispatch, the primary's or a
    backup's (inside its transaction)."""
    dispatched_at = assignment.dispatched_at
    common: dict[str, Any] = {
        "incident": incident,
        "unit_id": assignment.unit_id,
        "assignment": assignment,
    }
    rows = [
        Deadline(
            kind=DeadlineKind.ACKNOWLEDGE,
            due_at=dispatched_at + timedelta(seconds=settings.TARGET_ACKNOWLEDGE_S),
            **common,
        ),
        Deadline(
            kind=DeadlineKind.ARRIVAL,
            due_at=dispatched_at + timedelta(seconds=arrival_target_s(incident)),
            **common,
        ),
    ]
    insert(*rows)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        # Eager mode (no broker) would run the countdown at once; there the sweeper does it all.
        # One message per dispatch: the acknowledge deadline's task queues the arrival deadline's
        # when it runs (a Celery send was 4% of an API process's time under the alert benchmark,
        # py-spy). Whichever message is lost, the sweeper fires its deadline.
        ack, arrival = rows
        task = current_app.tasks[DEADLINE_FIRE_TASK]
        after_commit(
            partial(task.apply_async, args=[ack.pk], kwargs={"then": arrival.pk}, eta=ack.due_at)
        )
    return rows


def deadline_fire(*, deadline_id: int, now: datetime | None = None) -> DeadlineOutcome | None:
    """Resolve one due deadline exactly once. Returns its outcome, or None if nothing to do.

    Locks the deadline (skipping it when another path holds it), then the incident.
    """
    now = now or timezone.now()
    with transaction.atomic(), notices_together():
        deadline = _CLAIMED_DEADLINE.first(deadline_id)
        if deadline is None or deadline.due_at > now:
            return None
        incident = LOCKED_INCIDENT_WITH_CELL.one(deadline.incident_id)
        assignment = deadline.assignment
        outcome = _judge(deadline, incident, assignment)
        deadline.fired_at = now
        deadline.outcome = outcome
        save_fields(deadline, "fired_at", "outcome")
        if outcome == DeadlineOutcome.MISSED:
            # A backup's missed target is the command centre's to see; the incident's marks (its
            # escalation, its breach, the 1-3-5 figures) are the primary's.
            primary = assignment is None or assignment.role == AssignmentRole.PRIMARY
            if deadline.kind == DeadlineKind.ACKNOWLEDGE:
                _escalate_unacknowledged(incident, deadline, now, mark=primary)
            else:
                _record_arrival_breach(incident, deadline, now, mark=primary)
        return outcome


def _judge(
    deadline: Deadline, incident: Incident, assignment: IncidentAssignment | None
) -> DeadlineOutcome:
    if assignment is not None:
        done = (
            assignment.acknowledged_at
            if deadline.kind == DeadlineKind.ACKNOWLEDGE
            else assignment.arrived_at
        )
        if done is not None:
            return DeadlineOutcome.MET
        if assignment.cleared_at is not None:
            return DeadlineOutcome.SUPERSEDED
        return DeadlineOutcome.MISSED
    # A deadline from before several units per incident: judged by the incident's own state.
    if incident.unit_id != deadline.unit_id:
        return DeadlineOutcome.SUPERSEDED
    if deadline.kind == DeadlineKind.ACKNOWLEDGE:
        waiting = incident.status in _AWAITING_ACK
    else:
        waiting = incident.status in _AWAITING_ARRIVAL
    if waiting:
        return DeadlineOutcome.MISSED
    if incident.status == IncidentStatus.CANCELLED:
        return DeadlineOutcome.SUPERSEDED
    return DeadlineOutcome.MET


def _escalate_unacknowledged(
    incident: Incident, deadline: Deadline, now: datetime, *, mark: bool
) -> None:
    if mark and incident.escalated_at is None:
        incident.escalated_at = now
        save_fields(incident, "escalated_at")
    event_append(
        stream=StreamKind.INCIDENT,
        stream_id=incident.pk,
        incident=incident,
        kind="escalated",
        at=now,
        reason=_("No acknowledge within %(s)d s") % {"s": settings.TARGET_ACKNOWLEDGE_S},
        payload={"deadline": deadline.pk, "unit": deadline.unit_id, "primary": mark},
    )
    notify_target_missed(
        incident,
        unit_id=deadline.unit_id,
        target="acknowledge",
        target_s=int(settings.TARGET_ACKNOWLEDGE_S),
        at=now,
    )


def _record_arrival_breach(
    incident: Incident, deadline: Deadline, now: datetime, *, mark: bool
) -> None:
    if mark and incident.arrival_breached_at is None:
        incident.arrival_breached_at = now
        save_fields(incident, "arrival_breached_at")
    target = arrival_target_s(incident)
    event_append(
        stream=StreamKind.INCIDENT,
        stream_id=incident.pk,
        incident=incident,
        kind="arrival_target_missed",
        at=now,
        reason=_("Not on scene within %(s)d s") % {"s": target},
        payload={
            "deadline": deadline.pk,
            "unit": deadline.unit_id,
            "target_s": target,
            "primary": mark,
        },
    )
    notify_target_missed(
        incident, unit_id=deadline.unit_id, target="arrival", target_s=target, at=now
    )
