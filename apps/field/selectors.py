"""Reads of the crews' reports."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.incidents.models import Incident, IncidentAssignment
from apps.units.selectors import Recommendation, is_crew, unit_recommendations

from .models import Emergency


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
