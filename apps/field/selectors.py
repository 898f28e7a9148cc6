"""Reads of the crews' reports."""

from __future__ import annotations

from django.conf import settings

from apps.units.selectors import Recommendation, unit_recommendations

from .models import Emergency


def nearest_free(lat: float | None, lon: float | None, *, exclude: int) -> list[Recommendation]:
    """The free patrol units nearest a point, best first, without the unit `exclude` (the one
    in trouble): who can reach an emergency soonest."""
    if lat is None or lon is None:
        return []
    ranked = unit_recommendations(lat=lat, lon=lon, limit=int(settings.BACKUP_RANKED) + 1)
    return [r for r in ranked if r.unit.pk != exclude][: int(settings.BACKUP_RANKED)]


def emergencies_open() -> list[tuple[Emergency, list[Recommendation]]]:
    """The emergencies no commander has acknowledged yet, oldest first, each with the free
    units nearest it now (a reloaded command map shows them as the live frame did)."""
    rows = Emergency.objects.filter(acknowledged_at__isnull=True).select_related("unit", "incident")
    return [(e, nearest_free(e.lat, e.lon, exclude=e.unit_id)) for e in rows.order_by("raised_at")]
