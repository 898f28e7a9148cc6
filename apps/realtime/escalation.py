"""What follows a missed acknowledge, after the deadline's own transaction committed.

`deadline_fire` (apps/incidents/deadlines.py) records the escalation on the incident and tells the
command centre; here the crew on shift and the commanders are texted (at most ESCALATION_SMS_MAX)
and, with ESCALATION_REDISPATCH, the silent unit is taken off and the best free unit sent whose
phone is alive and that has not already missed this incident. Each step is its own transaction
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
from apps.common.shifts import shift_of
from apps.common.tasks import sms_send
from apps.incidents.deadlines import deadline_fire
from apps.incidents.models import Deadline, DeadlineKind, DeadlineOutcome, Incident, IncidentStatus
from apps.incidents.services import incident_dispatch, incident_unassign
from apps.personnel.models import Person
from apps.personnel.selectors import commander_phones
from apps.units.health import heartbeat_ages
from apps.units.models import Unit, UnitKind
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
    """Queue SMS to the unit's crew on shift and the commanders (Celery)."""
    text = _(
        "[110] Incident %(number)s at %(address)s was not acknowledged. Answer the app now."
    ) % {
        "number": incident.number,
        "address": incident.address,
    }
    for phone in escalation_phones(unit_id=unit_id):
        after_commit(partial(sms_send.delay, phone, text))


def escalation_phones(*, unit_id: int, now: datetime | None = None) -> list[str]:
    """Whom an escalation texts, at most ESCALATION_SMS_MAX numbers: first the unit's crew on
    the shift running now (a patrol unit's: the people posted to its staging point; a squad
    group's: those posted to it; an officer's posting has no shift: all shifts), then the active
    commanders. Nobody off shift is woken."""
    now = now or timezone.now()
    unit = Unit.objects.filter(pk=unit_id).only("kind", "staging_point_id").first()
    if unit is None:
        return commander_phones()[: max(0, int(settings.ESCALATION_SMS_MAX))]
    crews_it = Q(assignments__unit_id=unit_id)
    if unit.kind == UnitKind.PATROL:
        crews_it |= Q(
            assignments__unit__isnull=True, assignments__staging_point_id=unit.staging_point_id
        )
    # One filter() call: every condition applies to the same assignment row.
    crew = Person.objects.filter(
        Q(assignments__valid_to__isnull=True) | Q(assignments__valid_to__gt=now),
        Q(assignments__shift__isnull=True) | Q(assignments__shift=shift_of(now)),
        crews_it,
        assignments__valid_from__lte=now,
    )
    phones: list[str] = []
    for phone in [
        *sorted(set(crew.exclude(phone="").values_list("phone", flat=True))),
        *commander_phones(),
    ]:
        if phone not in phones:
            phones.append(phone)
    return phones[: max(0, int(settings.ESCALATION_SMS_MAX))]


def redispatch_candidates(
    incident: Incident, *, now: datetime | None = None, check_phones: bool = True
) -> list[Unit]:
    """The free units, best first, that may take over a silent unit's incident: never one that
    already missed this incident's acknowledge, and only one whose phone reported within
    ESCALATION_HEARTBEAT_MAX_AGE_S (a unit that cannot hear the alert would only miss again).
    ``check_phones=False`` is the simulation's: its phones keep no heartbeat and all answer."""
    missed = set(
        Deadline.objects.filter(
            incident=incident, kind=DeadlineKind.ACKNOWLEDGE, outcome=DeadlineOutcome.MISSED
        ).values_list("unit_id", flat=True)
    )
    ranked = [
        rec.unit
        for rec in unit_recommendations(lat=incident.lat, lon=incident.lon)
        if rec.unit.pk not in missed
    ]
    if not check_phones:
        return ranked
    ages = heartbeat_ages([u.pk for u in ranked], now=now)
    limit = int(settings.ESCALATION_HEARTBEAT_MAX_AGE_S)
    return [u for u in ranked if (age := ages.get(u.pk)) is not None and age <= limit]


def redispatch_after_silence(
    *, incident_id: int, silent_unit_id: int, check_phones: bool = True
) -> Incident | None:
    """Take the silent unit off and send the best qualifying free unit. Returns the incident, or
    None when nothing was done: the unit acknowledged meanwhile, the incident moved on, or no unit
    qualifies — then the incident stays as it is, flagged escalated on the command map, for the
    command centre to decide (no ping-pong between units that cannot answer)."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if (
        incident is None
        or incident.status != IncidentStatus.DISPATCHED
        or incident.unit_id != silent_unit_id
    ):
        return None
    candidates = redispatch_candidates(incident, check_phones=check_phones)
    if not candidates:
        log.warning(
            "incident %s: no free unit with a live phone to send after escalation; it stays with "
            "the command centre",
            incident.number,
        )
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
    for unit in candidates:
        try:
            return incident_dispatch(incident=incident, unit=unit, actor=actor)
        except DomainError:
            continue  # taken by a dispatcher meanwhile, or the incident moved on
    log.warning("incident %s: no free unit to send after escalation", incident.number)
    return incident
