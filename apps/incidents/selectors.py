"""Reads of incidents, scoped to what the reader may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from apps.common.roles import OPERATIONS_ROLES, UNIT_CREW_ROLES, Role, has_role, is_command_centre
from apps.units.selectors import is_crew_on_shift, station_ids_for_user, unit_for_user

from .models import Event, Incident

# Roles that read incidents at all (others, e.g. hr, are refused with 403).
INCIDENT_READER_ROLES = (*OPERATIONS_ROLES, *UNIT_CREW_ROLES, Role.STATION)


def can_read_incidents(user: Any) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or has_role(user, *INCIDENT_READER_ROLES))
    )


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    """The command centre sees every incident; a station user those in or transferred to its
    stations; a crew member those their unit handles or handled."""
    qs = Incident.objects.select_related(
        "grid_cell", "station", "unit", "transfer_station", "transfer_received_by"
    )
    if is_command_centre(user):
        return qs
    scope = Q(pk__in=[])
    stations = station_ids_for_user(user)
    if stations:
        scope |= Q(station_id__in=stations) | Q(transfer_station_id__in=stations)
    unit = unit_for_user(user)
    if unit is not None:
        scope |= Q(unit=unit)
    return qs.filter(scope)


def incident_list(
    *,
    user: Any,
    status: str | None = None,
    category: str | None = None,
    since: datetime | None = None,
) -> QuerySet[Incident]:
    qs = incidents_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    return qs.order_by("-received_at", "-pk")


def incident_detail(*, user: Any, pk: int) -> Incident | None:
    """One incident with its timeline (incident stream, in order), or None if not visible."""
    events = Event.objects.filter(stream="incident").select_related("actor").order_by("seq")
    return (
        incidents_visible_to(user)
        .prefetch_related(Prefetch("events", queryset=events, to_attr="timeline"))
        .filter(pk=pk)
        .first()
    )


def caller_phone_visible(user: Any, incident: Incident) -> bool:
    """Who may see a caller's phone number in full (in the incident detail; lists mask it).

    The command centre; the crew on shift of the unit whose current incident it is (they call
    back); the station the incident was transferred to.
    """
    if is_command_centre(user):
        return True
    unit = incident.unit
    if (
        unit is not None
        and unit.current_incident_id == incident.pk
        and is_crew_on_shift(user, unit)
    ):
        return True
    return incident.transfer_station_id is not None and (
        incident.transfer_station_id in station_ids_for_user(user)
    )
