"""The 1-3-5 minute timers, kept in the database and fired exactly once.

- `deadlines_schedule` (inside the dispatch transaction) writes the acknowledge deadline
  (TARGET_ACKNOWLEDGE_S after dispatch) and the arrival deadline (TARGET_ARRIVAL_PRIORITY_ZONE_S in
  a priority-zone cell, TARGET_ARRIVAL_S elsewhere), and after commit queues the Celery countdown
  task — only the fast path.
- `deadlines_sweep` (Celery beat every DEADLINE_SWEEP_S, or the in-process loop of the embedded
  setup) fires every deadline that is due and unfired.
- `deadline_fire` claims the row with SELECT … FOR UPDATE SKIP LOCKED and `fired_at IS NULL`, so
  whichever path comes first resolves it and the other finds nothing to do.

Other services never lock deadline rows: a deadline checks, when it fires, whether its condition was
met (the unit acknowledged / arrived) or superseded (the incident went to another unit or closed).
Lock order here is deadline → incident → unit, the same incident → unit order as everywhere else.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.notices import COMMAND
from apps.common.push import after_commit

from .events import IncidentEscalated, publish
from .models import Incident, IncidentStatus, StreamKind
from .realtime_models import Deadline, DeadlineKind, DeadlineOutcome
from .timeline import event_append

log = logging.getLogger(__name__)

_AWAITING_ACK = (IncidentStatus.DISPATCHED,)
_AWAITING_ARRIVAL = (
    IncidentStatus.DISPATCHED,
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.EN_ROUTE,
)


def arrival_target_s(incident: Incident) -> int:
    cell = incident.grid_cell
    if cell is not None and cell.priority_zone:
        return int(settings.TARGET_ARRIVAL_PRIORITY_ZONE_S)
    return int(settings.TARGET_ARRIVAL_S)


def deadlines_schedule(*, incident: Incident, unit: Any, dispatched_at: datetime) -> list[Deadline]:
    """Write the acknowledge and arrival deadlines of a dispatch (inside its transaction)."""
    rows = Deadline.objects.bulk_create(
        [
            Deadline(
                incident=incident,
                unit=unit,
                kind=DeadlineKind.ACKNOWLEDGE,
                due_at=dispatched_at + timedelta(seconds=settings.TARGET_ACKNOWLEDGE_S),
            ),
            Deadline(
                incident=incident,
                unit=unit,
                kind=DeadlineKind.ARRIVAL,
                due_at=dispatched_at + timedelta(seconds=arrival_target_s(incident)),
            ),
        ]
    )
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        # Eager mode (no broker) would run the countdown at once; there the sweeper does it all.
        # One message per dispatch: the acknowledge deadline's task queues the arrival deadline's
        # when it runs (a Celery send was 4% of an API process's time under the alert benchmark,
        # py-spy). Whichever message is lost, the sweeper fires its deadline.
        from .deadline_tasks import deadline_fire_task

        ack, arrival = rows
        after_commit(
            partial(
                deadline_fire_task.apply_async,
                args=[ack.pk],
                kwargs={"then": arrival.pk},
                eta=ack.due_at,
            )
        )
    return rows


def deadline_fire(*, deadline_id: int, now: datetime | None = None) -> DeadlineOutcome | None:
    """Resolve one due deadline exactly once. Returns its outcome, or None if nothing to do.

    Locks the deadline (skipping it when another path holds it), then the incident.
    """
    now = now or timezone.now()
    with transaction.atomic():
        deadline = (
            Deadline.objects.select_for_update(skip_locked=True)
            .filter(pk=deadline_id, fired_at__isnull=True, due_at__lte=now)
            .first()
        )
        if deadline is None:
            return None
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("grid_cell")
            .get(pk=deadline.incident_id)
        )
        outcome = _judge(deadline, incident)
        deadline.fired_at = now
        deadline.outcome = outcome
        deadline.save(update_fields=["fired_at", "outcome"])
        if outcome == DeadlineOutcome.MISSED:
            if deadline.kind == DeadlineKind.ACKNOWLEDGE:
                _escalate_unacknowledged(incident, deadline, now)
            else:
                _record_arrival_breach(incident, deadline, now)
        return outcome


def _judge(deadline: Deadline, incident: Incident) -> DeadlineOutcome:
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


def _escalate_unacknowledged(incident: Incident, deadline: Deadline, now: datetime) -> None:
    first = incident.escalated_at is None
    if first:
        incident.escalated_at = now
        incident.save(update_fields=["escalated_at"])
    event_append(
        stream=StreamKind.INCIDENT,
        stream_id=incident.pk,
        incident=incident,
        kind="escalated",
        at=now,
        reason=_("No acknowledge within %(s)d s") % {"s": settings.TARGET_ACKNOWLEDGE_S},
        payload={"deadline": deadline.pk, "unit": deadline.unit_id},
    )
    publish(
        COMMAND,
        IncidentEscalated(
            incident_id=incident.pk,
            number=incident.number,
            unit_id=deadline.unit_id,
            target="acknowledge",
            target_s=int(settings.TARGET_ACKNOWLEDGE_S),
            at=now.isoformat(),
        ),
    )
    _sms_escalation(incident, deadline.unit_id)
    if settings.ESCALATION_REDISPATCH:
        # After commit and in its own transactions: each of them locks a single unit.
        from .deadline_tasks import escalation_redispatch_task

        incident_id, unit_id = incident.pk, deadline.unit_id
        after_commit(lambda: escalation_redispatch_task.delay(incident_id, unit_id))


def _record_arrival_breach(incident: Incident, deadline: Deadline, now: datetime) -> None:
    if incident.arrival_breached_at is None:
        incident.arrival_breached_at = now
        incident.save(update_fields=["arrival_breached_at"])
    target = arrival_target_s(incident)
    event_append(
        stream=StreamKind.INCIDENT,
        stream_id=incident.pk,
        incident=incident,
        kind="arrival_target_missed",
        at=now,
        reason=_("Not on scene within %(s)d s") % {"s": target},
        payload={"deadline": deadline.pk, "unit": deadline.unit_id, "target_s": target},
    )
    publish(
        COMMAND,
        IncidentEscalated(
            incident_id=incident.pk,
            number=incident.number,
            unit_id=deadline.unit_id,
            target="arrival",
            target_s=target,
            at=now.isoformat(),
        ),
    )


def _sms_escalation(incident: Incident, unit_id: int) -> None:
    """Queue SMS to the unit's crew and the duty commanders (after commit, in Celery)."""
    from apps.common.tasks import sms_send

    phones = escalation_phones(unit_id=unit_id)
    text = _(
        "[110] Incident %(number)s at %(address)s was not acknowledged. Answer the app now."
    ) % {
        "number": incident.number,
        "address": incident.address,
    }
    for phone in phones:
        after_commit(partial(sms_send.delay, phone, text))


def escalation_phones(*, unit_id: int) -> list[str]:
    """Phones of the unit's crew (people posted at its staging point now) and of commanders."""
    from django.db.models import Q

    from apps.personnel.models import Person
    from apps.units.models import Unit

    now = timezone.now()
    staging_point_id = Unit.objects.filter(pk=unit_id).values_list("staging_point_id", flat=True)
    crew = Person.objects.filter(
        Q(assignments__valid_to__isnull=True) | Q(assignments__valid_to__gt=now),
        assignments__staging_point_id__in=staging_point_id,
        assignments__valid_from__lte=now,
    )
    commanders = Person.objects.filter(user__groups__name="commander", user__is_active=True)
    phones = set(crew.exclude(phone="").values_list("phone", flat=True))
    phones |= set(commanders.exclude(phone="").values_list("phone", flat=True))
    return sorted(phones)


def deadlines_sweep(*, limit: int = 200, now: datetime | None = None) -> int:
    """Fire what is due. Each deadline in its own short transaction. Returns how many fired."""
    now = now or timezone.now()
    due = list(
        Deadline.objects.filter(fired_at__isnull=True, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    fired = 0
    for pk in due:
        try:
            if deadline_fire(deadline_id=pk, now=now) is not None:
                fired += 1
        except Exception:  # one bad row must not stop the sweep; it is retried next round
            log.exception("deadline %s failed to fire", pk)
    return fired
