"""Reads of incidents, scoped to what the reader may see."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.calls.models import Call, CallStatus
from apps.calls.selectors import calls_of_caller
from apps.common.geo import LatLon, haversine_m
from apps.common.prepared import Prepared
from apps.common.roles import OPERATIONS_ROLES, UNIT_CREW_ROLES, Role, has_role, is_command_centre
from apps.units.models import Unit, UnitKind
from apps.units.routing_engine import get_router
from apps.units.selectors import (
    is_crew_on_shift,
    station_ids_for_user,
    unit_for_user,
    unit_origin,
)

from .models import (
    OPEN_STATUSES,
    AssignmentStatus,
    Event,
    Incident,
    IncidentAssignment,
)
from .notify import WORKING_ASSIGNMENTS, active_assignments_prefetch, working_first

# Roles that read incidents at all (others, e.g. hr, are refused with 403).
INCIDENT_READER_ROLES = (*OPERATIONS_ROLES, *UNIT_CREW_ROLES, Role.STATION)


def working_assignments(incident: Incident) -> list[IncidentAssignment]:
    """The units working an incident now (with their units), primary first, then by dispatch."""
    return working_first(WORKING_ASSIGNMENTS(incident.pk))


# What an incident is read with wherever it is shown (IncidentOut's related rows).
INCIDENT_RELATED = ("grid_cell", "station", "unit", "transfer_station", "transfer_received_by")


def can_read_incidents(user: Any) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or has_role(user, *INCIDENT_READER_ROLES))
    )


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    """The command centre sees every incident; a station user those in or transferred to its
    stations; a crew member those their unit works or worked (as the primary or a backup)."""
    qs = Incident.objects.select_related(*INCIDENT_RELATED).prefetch_related(
        active_assignments_prefetch()
    )
    if is_command_centre(user):
        return qs
    scope = Q(pk__in=[])
    stations = station_ids_for_user(user)
    if stations:
        scope |= Q(station_id__in=stations) | Q(transfer_station_id__in=stations)
    unit = unit_for_user(user)
    if unit is not None:
        scope |= Q(unit=unit) | Q(
            pk__in=IncidentAssignment.objects.filter(unit=unit).values("incident_id")
        )
    return qs.filter(scope)


# The incident as the command centre reads it after a change (what incidents_visible_to selects).
_AS_THE_CENTRE_SEES_IT = Prepared(
    lambda pk: Incident.objects.filter(pk=pk).select_related(*INCIDENT_RELATED)
)
_EXISTS = Prepared(lambda pk: Incident.objects.filter(pk=pk).only("pk"))


def incident_visible(user: Any, pk: int) -> Incident | None:
    """The incident (its id only) if the user may see it, else None."""
    if is_command_centre(user):
        return _EXISTS.first(pk)
    visible = incidents_visible_to(user).select_related(None).prefetch_related(None)
    return visible.only("pk").filter(pk=pk).first()


def incident_fresh(user: Any, pk: int) -> Incident | None:
    """The incident as it is now, as ``incidents_visible_to(user)`` reads it (with its working
    units), or None. The command centre's read, after every action it takes, is compiled once."""
    if not is_command_centre(user):
        return incidents_visible_to(user).filter(pk=pk).first()
    incident = _AS_THE_CENTRE_SEES_IT.first(pk)
    if incident is not None:
        incident.active_assignments = WORKING_ASSIGNMENTS(pk)  # type: ignore[attr-defined]
    return incident


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
    calls = Call.objects.order_by("received_at", "pk")
    assignments = IncidentAssignment.objects.select_related("unit").order_by("dispatched_at", "pk")
    incident = (
        incidents_visible_to(user)
        .prefetch_related(
            Prefetch("events", queryset=events, to_attr="timeline"),
            Prefetch("calls", queryset=calls, to_attr="call_list"),
            Prefetch("assignments", queryset=assignments, to_attr="assignment_list"),
        )
        .filter(pk=pk)
        .first()
    )
    if incident is not None:
        opening = [c for c in incident.call_list if c.status == CallStatus.INCIDENT]
        incident.opening_call = opening[0] if opening else None  # type: ignore[attr-defined]
    return incident


def caller_phone_visible(user: Any, incident: Incident) -> bool:
    """Who may see a caller's phone number in full (in the incident detail; lists mask it).

    The command centre; the crew on shift of a unit working it now (they call back); the
    station the incident was transferred to.
    """
    if is_command_centre(user):
        return True
    working = IncidentAssignment.objects.filter(
        incident=incident, cleared_at__isnull=True
    ).select_related("unit")
    if any(is_crew_on_shift(user, a.unit) for a in working):
        return True
    return incident.transfer_station_id is not None and (
        incident.transfer_station_id in station_ids_for_user(user)
    )


# --- the call-taker's console: before dispatch ---------------------------------------------------


@dataclass(frozen=True)
class NearbyIncident:
    incident: Incident
    distance_m: float
    open: bool


def incidents_nearby(
    *, lat: float, lon: float, radius_m: float, minutes: int
) -> list[NearbyIncident]:
    """Incidents within `radius_m` of a point that are open, or were received in the last
    `minutes`: what a new call may be about (a duplicate to link instead of a new incident).
    Nearest first. A bounding box narrows the rows; the exact distance decides."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    since = timezone.now() - timedelta(minutes=minutes)
    rows = Incident.objects.select_related("grid_cell", "station", "unit").filter(
        Q(status__in=OPEN_STATUSES) | Q(received_at__gte=since),
        lat__range=(lat - dlat, lat + dlat),
        lon__range=(lon - dlon, lon + dlon),
    )
    found = []
    for incident in rows[:200]:
        distance = haversine_m(lat, lon, incident.lat, incident.lon)
        if distance <= radius_m:
            found.append(NearbyIncident(incident, distance, incident.status in OPEN_STATUSES))
    return sorted(found, key=lambda n: (not n.open, n.distance_m))


@dataclass(frozen=True)
class CallerHistory:
    calls: list[Call]
    incidents: list[Incident]


def caller_history(*, phone: str, days: int) -> CallerHistory:
    """A caller's calls and incidents of the last `days` (newest first): a repeat caller, a
    dispute that keeps coming back, a known nuisance number."""
    since = timezone.now() - timedelta(days=days)
    incidents = Incident.objects.select_related("unit", "station").filter(
        caller_phone=phone, received_at__gte=since
    )
    return CallerHistory(
        calls=list(calls_of_caller(phone, days=days)[:50]),
        incidents=list(incidents.order_by("-received_at")[:50]),
    )


@dataclass(frozen=True)
class DivertCandidate:
    unit: Unit
    incident: Incident  # the priority-3 incident it would leave
    eta_s: int
    distance_m: int


def divert_candidates(*, incident: Incident, limit: int = 5) -> list[DivertCandidate]:
    """For a priority-1 incident: the patrol units on their way to (not yet on scene of) a
    priority-3 incident, ranked by estimated travel time — the dispatcher may divert one
    (services.incident_divert). Empty for any other priority."""
    if incident.priority != 1:
        return []
    rows = list(
        IncidentAssignment.objects.filter(
            cleared_at__isnull=True,
            status__in=[
                AssignmentStatus.DISPATCHED,
                AssignmentStatus.ACKNOWLEDGED,
                AssignmentStatus.EN_ROUTE,
            ],
            incident__priority=3,
            unit__kind=UnitKind.PATROL,
        ).select_related("unit__staging_point", "incident")
    )
    now = timezone.now()
    travels = get_router().travel(
        [unit_origin(a.unit, now)[0] for a in rows], LatLon(incident.lat, incident.lon)
    )
    ranked = [
        DivertCandidate(a.unit, a.incident, round(t.duration_s), round(t.distance_m))
        for a, t in zip(rows, travels, strict=True)
        if t is not None
    ]
    ranked.sort(key=lambda c: (c.eta_s, c.distance_m, c.unit.callsign))
    return ranked[:limit]
