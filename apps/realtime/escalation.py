"""What follows a missed acknowledge, after the deadline's own transaction committed.

`deadline_fire` (apps/incidents/deadlines.py) records the escalation on the incident and tells the
command centre; here the crew and the commanders are texted and, with ESCALATION_REDISPATCH, the
silent unit is taken off and the next-ranked free unit sent. Each step is its own transaction
through the ordinary services (one unit locked per transaction), acting as the system account, so
the timeline says what the system did and why.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.errors import DomainError
from apps.common.push import after_commit
from apps.common.services import system_user
from apps.common.tasks import sms_send
from apps.incidents.deadlines import deadline_fire
from apps.incidents.models import Deadline, DeadlineKind, DeadlineOutcome, Incident, IncidentStatus
from apps.incidents.services import incident_dispatch, incident_unassign
from apps.personnel.models import Person
from apps.units.models import Unit
from apps.units.selectors import unit_recommendations

log = logging.getLogger(__name__)


def deadline_fire_and_follow_up(
    *, deadline_id: int, now: datetime | None = None
) -> DeadlineOutcome | None:
    """Fire one deadline (exactly once, whichever path calls); the path that fired a missed
    acknowledge then texts the crew and commanders and, if configured, re-dispatches."""
    outcome = deadline_fire(deadline_id=deadline_id, now=now)
    if outcome == DeadlineOutcome.MISSED:
        deadline = Deadline.objects.select_related("incident").get(pk=deadline_id)
        if deadline.kind == DeadlineKind.ACKNOWLEDGE:
            escalation_follow_up(incident=deadline.incident, silent_unit_id=deadline.unit_id)
    return outcome


def escalation_follow_up(*, incident: Incident, silent_unit_id: int) -> None:
    escalation_texts_send(incident=incident, unit_id=silent_unit_id)
    if settings.ESCALATION_REDISPATCH:
        # Queued (after commit of whatever called us) so that the sweep is not held up.
        from .tasks import escalation_redispatch_task  # tasks imports this module

        incident_id = incident.pk
        after_commit(lambda: escalation_redispatch_task.delay(incident_id, silent_unit_id))


def escalation_texts_send(*, incident: Incident, unit_id: int) -> None:
    """Queue SMS to the unit's crew and the duty commanders (Celery)."""
    text = _(
        "[110] Incident %(number)s at %(address)s was not acknowledged. Answer the app now."
    ) % {
        "number": incident.number,
        "address": incident.address,
    }
    for phone in escalation_phones(unit_id=unit_id):
        after_commit(partial(sms_send.delay, phone, text))


def escalation_phones(*, unit_id: int) -> list[str]:
    """Phones of the unit's crew (people posted at its staging point now) and of commanders."""
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


def redispatch_after_silence(*, incident_id: int, silent_unit_id: int) -> Incident | None:
    """Take the silent unit off and send the best other free unit. Returns the incident, or None
    when nothing was done (the unit acknowledged meanwhile, or the incident moved on)."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if (
        incident is None
        or incident.status != IncidentStatus.DISPATCHED
        or incident.unit_id != silent_unit_id
    ):
        return None
    actor = system_user()
    try:
        incident = incident_unassign(
            incident=incident,
            reason=_("No acknowledge from the unit in time; sending the next unit."),
            actor=actor,
        )
    except DomainError:
        return None  # acknowledged or changed in the meantime: nothing to do
    for rec in unit_recommendations(lat=incident.lat, lon=incident.lon):
        if rec.unit.pk == silent_unit_id:
            continue
        try:
            return incident_dispatch(incident=incident, unit=rec.unit, actor=actor)
        except DomainError:
            continue  # taken by a dispatcher meanwhile, or the incident moved on
    log.warning("incident %s: no free unit to send after escalation", incident.number)
    return incident
