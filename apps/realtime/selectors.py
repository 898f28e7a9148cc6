"""What the websocket consumers read: snapshots and the alerts awaiting a receipt. Reads only.

Each function runs in a worker thread (database_sync_to_async) and returns plain JSON values.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import asdict
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.calls.notify import call_brief
from apps.calls.selectors import calls_ringing
from apps.common.models import Notice, NoticeCursor
from apps.common.notices import CatchUp, notices_since, unit_audience
from apps.common.roles import roles_prefetch
from apps.field.notify import UnitEmergency
from apps.field.selectors import backup_requests_open, emergencies_open
from apps.incidents.models import (
    OPEN_STATUSES,
    Alert,
    AssignmentStatus,
    Incident,
    IncidentAssignment,
    IncidentStatus,
)
from apps.incidents.notify import IncidentBrief, active_assignments_prefetch
from apps.units.models import Unit
from apps.units.selectors import crew_unit_ids


def crew_units(users: list[Any]) -> dict[Any, int]:
    """The unit each of these users crews (`unit_for_user`, for all of them at once), by user;
    those who crew none are missing."""
    roles_prefetch(users)
    unit_ids = crew_unit_ids(users)
    return {user: unit_ids[user.pk] for user in users if user.pk in unit_ids}


# Set on a user by `crew_units_prefetch`: the unit they crew (None: none).
CREW_UNIT = "_cad_crew_unit"


def crew_units_prefetch(users: list[Any]) -> None:
    """Note on each user the unit they crew now (None when none), read in the token's trip to
    the database thread (apps.common.ws): the unit socket's handshake then needs no trip for it."""
    unit_ids = crew_units(users)
    for user in users:
        setattr(user, CREW_UNIT, unit_ids.get(user))


def audience_heads(audiences: Collection[str]) -> dict[str, int]:
    """The last number issued to each audience (0 when none was)."""
    heads = dict(
        NoticeCursor.objects.filter(audience__in=audiences).values_list("audience", "last_seq")
    )
    return {audience: heads.get(audience, 0) for audience in audiences}


def catch_ups(wanted: list[tuple[str, int]]) -> dict[tuple[str, int], CatchUp]:
    """`notices_since` for many (audience, last_seq) at once, in one trip."""
    return {
        (audience, last): notices_since(audience=audience, last_seq=last)
        for audience, last in wanted
    }


def _live_alerts() -> QuerySet[Alert]:
    """Alerts that still stand: not withdrawn, and the unit's part in the incident (as its
    primary or a backup) still waits for its acknowledge (an alert left pending by older data
    never reaches a phone again)."""
    waiting = IncidentAssignment.objects.filter(
        incident_id=OuterRef("incident_id"),
        unit_id=OuterRef("unit_id"),
        status=AssignmentStatus.DISPATCHED,
        cleared_at__isnull=True,
    )
    return Alert.objects.filter(Exists(waiting), withdrawn_at__isnull=True)


def live_alerts(alert_ids: list[str]) -> dict[str, bool]:
    """`live_alert_ids` as a mapping: alert id → True for those that stand."""
    return dict.fromkeys(live_alert_ids(alert_ids), True)


def live_alert_ids(alert_ids: list[str]) -> set[str]:
    """Of these alert ids, those whose alert still stands (a replayed frame of any other is
    dropped: a phone catching up is never alerted for an incident that moved on)."""
    valid = []
    for alert_id in alert_ids:
        try:
            valid.append(uuid.UUID(str(alert_id)))
        except ValueError:
            continue
    return {str(a) for a in _live_alerts().filter(id__in=valid).values_list("id", flat=True)}


def pending_alert_frames(
    unit_ids: list[int],
) -> tuple[dict[int, list[dict[str, Any]]], list[uuid.UUID]]:
    """The frames of the alerts awaiting a receipt for many units at once (two queries, whatever
    the number of units), and the ids of those alerts."""
    alerts = list(
        _live_alerts()
        .filter(unit_id__in=unit_ids, delivered_at__isnull=True)
        .order_by("created_at")
        .values_list("id", "unit_id", "seq")
    )
    if not alerts:
        return {}, []
    wanted = Q()
    for unit_id in {u for _, u, _ in alerts}:
        wanted |= Q(
            audience=unit_audience(unit_id), seq__in=[s for _, u, s in alerts if u == unit_id]
        )
    notices = {(n.audience, n.seq): n for n in Notice.objects.filter(wanted)}
    frames: dict[int, list[dict[str, Any]]] = {}
    for _alert_id, unit_id, seq in alerts:
        notice = notices.get((unit_audience(unit_id), seq))
        if notice is not None:
            frame = {**notice.payload, "type": notice.type, "seq": seq, "resent": True}
            frames.setdefault(unit_id, []).append(frame)
    return frames, [a for a, _, _ in alerts]


def _unit_dict(unit: Any, now: Any) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "callsign": unit.callsign,
        "kind": unit.kind,
        "status": unit.status,
        "staging_point": {
            "id": unit.staging_point_id,
            "name": unit.staging_point.name,
            "lat": unit.staging_point.lat,
            "lon": unit.staging_point.lon,
        },
        "position": {"lat": unit.lat, "lon": unit.lon} if unit.lat is not None else None,
        "position_at": unit.position_at.isoformat() if unit.position_at else None,
        "position_age_s": (
            int((now - unit.position_at).total_seconds()) if unit.position_at else None
        ),
        "current_incident": unit.current_incident_id,
    }


def _incident_dict(incident: Incident) -> dict[str, Any]:
    return asdict(IncidentBrief.of(incident))


def unit_snapshot(unit_id: int) -> dict[str, Any]:
    now = timezone.now()
    unit = Unit.objects.select_related("staging_point", "current_incident").get(pk=unit_id)
    pending = list(
        _live_alerts()
        .filter(unit_id=unit_id, delivered_at__isnull=True)
        .order_by("created_at")
        .values_list("id", flat=True)
    )
    return {
        "unit": _unit_dict(unit, now),
        "incident": _incident_dict(unit.current_incident) if unit.current_incident else None,
        "pending_alerts": [str(a) for a in pending],
    }


def command_snapshot() -> dict[str, Any]:
    now = timezone.now()
    units = Unit.objects.select_related("staging_point").order_by("callsign")
    incidents = Incident.objects.filter(
        status__in=[*OPEN_STATUSES, IncidentStatus.TRANSFER_PENDING]
    ).prefetch_related(active_assignments_prefetch())
    return {
        "units": [_unit_dict(u, now) for u in units],
        "incidents": [_incident_dict(i) for i in incidents.order_by("received_at")[:500]],
        # The calls ringing now (the call-taker's console offers to take them).
        "calls": [call_brief(c) for c in calls_ringing()[:50]],
        # Emergencies no commander has acknowledged yet: they keep sounding after a reload.
        "emergencies": [UnitEmergency.of(e, near).to_dict() for e, near in emergencies_open()],
        # Backup requests still waiting for units: they are not lost with a reload either.
        "backup_requests": [r.to_dict() for r in backup_requests_open()],
    }
