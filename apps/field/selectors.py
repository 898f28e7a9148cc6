"""Reads of the crews' reports."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.incidents.models import (
    OPEN_STATUSES,
    AssignmentRole,
    Event,
    Incident,
    IncidentAssignment,
)
from apps.incidents.selectors import working_assignments
from apps.units.selectors import Recommendation, is_crew, unit_recommendations

from .models import Emergency
from .notify import BackupRequested, ranked_brief


def nearest_free(
    lat: float | None, lon: float | None, *, exclude: set[int], want: int = 0
) -> list[Recommendation]:
    """The free patrol units nearest a point, best first, without the units `exclude` (the one
    in trouble, those already on the incident): at least BACKUP_RANKED of them, or `want`."""
    if lat is None or lon is None:
        return []
    count = max(want, int(settings.BACKUP_RANKED))
    ranked = unit_recommendations(lat=lat, lon=lon, limit=count + len(exclude))
    return [r for r in ranked if r.unit.pk not in exclude][:count]


def unit_sent_crewed_by(actor: Any, incident: Incident) -> IncidentAssignment | None:
    """The latest assignment to the incident of a unit this actor crews (released ones too: a
    photo queued offline arrives after the unit left), or None."""
    rows = IncidentAssignment.objects.filter(incident=incident).select_related("unit")
    return next((a for a in rows.order_by("-dispatched_at") if is_crew(actor, a.unit)), None)


def emergencies_open() -> list[tuple[Emergency, list[Recommendation]]]:
    """The emergencies no commander has acknowledged yet, oldest first, each with the free
    units nearest it now (a reloaded command map shows them as the live frame did)."""
    rows = Emergency.objects.filter(acknowledged_at__isnull=True).select_related("unit", "incident")
    return [
        (e, nearest_free(e.lat, e.lon, exclude={e.unit_id})) for e in rows.order_by("raised_at")
    ]


def backup_requests_open() -> list[BackupRequested]:
    """The crews' backup requests (请求增援) still waiting for units, oldest first: of every open
    incident its latest request, while fewer backups were sent to the incident since than it
    asked for (the command map's own rule for an answered request), with the free units nearest
    the incident now. A reloaded command map shows them as the live frame did."""
    latest: dict[int, Event] = {}
    events = Event.objects.filter(
        kind="backup_requested", incident__status__in=OPEN_STATUSES
    ).select_related("incident", "unit")
    for event in events.order_by("incident_id", "-seq"):
        if event.incident_id is not None:
            latest.setdefault(event.incident_id, event)
    if not latest:
        return []
    sent = IncidentAssignment.objects.filter(
        incident_id__in=latest, role=AssignmentRole.BACKUP
    ).values_list("incident_id", "dispatched_at")
    answered: dict[int, int] = {}
    for incident_id, dispatched_at in sent:
        if dispatched_at >= latest[incident_id].at:
            answered[incident_id] = answered.get(incident_id, 0) + 1
    waiting = []
    for event in sorted(latest.values(), key=lambda e: e.at):
        incident = event.incident
        assert incident is not None
        count = int(event.payload.get("count") or 1)
        if answered.get(incident.pk, 0) >= count:
            continue
        working = {a.unit_id for a in working_assignments(incident)}
        ranked = nearest_free(incident.lat, incident.lon, exclude=working, want=count)
        waiting.append(
            BackupRequested(
                incident_id=incident.pk,
                number=incident.number,
                unit_id=event.unit_id,
                callsign=event.unit.callsign if event.unit else "",
                count=count,
                reason=event.reason,
                at=event.at.isoformat(),
                nearest=ranked_brief(ranked),
            )
        )
    return waiting
