"""What the websocket consumers read (snapshots, pending alerts) and the thin glue to services.

Each function runs in a worker thread (database_sync_to_async) and returns plain JSON values.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.common.models import Notice
from apps.common.notices import unit_audience

from .alerts import alerts_mark_sent, alerts_pending
from .events import IncidentBrief
from .models import OPEN_STATUSES, Incident, IncidentStatus
from .realtime_models import Alert


def unit_id_for_crew(user: Any) -> int | None:
    from apps.units.selectors import unit_for_user

    unit = unit_for_user(user)
    return unit.pk if unit is not None else None


def pending_alert_frames(unit_id: int) -> list[dict[str, Any]]:
    """The frames of the unit's alerts still awaiting a receipt; counts them as sent."""
    return pending_alert_frames_for([unit_id]).get(unit_id, [])


def pending_alert_frames_for(unit_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Alerts awaiting a receipt for many units at once (two queries, whatever the number of
    units); counts them as sent."""
    alerts = list(
        Alert.objects.filter(
            unit_id__in=unit_ids, delivered_at__isnull=True, withdrawn_at__isnull=True
        )
        .order_by("created_at")
        .values_list("id", "unit_id", "seq")
    )
    if not alerts:
        return {}
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
    alerts_mark_sent(alert_ids=[a for a, _, _ in alerts])
    return frames


def _unit_dict(unit: Any, now: Any) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "callsign": unit.callsign,
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
    from apps.units.models import Unit

    now = timezone.now()
    unit = Unit.objects.select_related("staging_point", "current_incident").get(pk=unit_id)
    pending = list(alerts_pending(unit_id=unit_id).values_list("id", flat=True))
    return {
        "unit": _unit_dict(unit, now),
        "incident": _incident_dict(unit.current_incident) if unit.current_incident else None,
        "pending_alerts": [str(a) for a in pending],
    }


def command_snapshot() -> dict[str, Any]:
    from apps.units.models import Unit

    now = timezone.now()
    units = Unit.objects.select_related("staging_point").order_by("callsign")
    incidents = Incident.objects.filter(
        status__in=[*OPEN_STATUSES, IncidentStatus.TRANSFER_PENDING]
    )
    return {
        "units": [_unit_dict(u, now) for u in units],
        "incidents": [_incident_dict(i) for i in incidents.order_by("received_at")[:500]],
    }


def record_position_frame(unit_id: int, frame: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a position fix sent over the socket. Returns per-field errors."""
    from apps.units.api import PositionIn
    from apps.units.models import Unit
    from apps.units.services import unit_position_record

    data = PositionIn(data={k: v for k, v in frame.items() if k != "type"})
    if not data.is_valid():
        return {k: [str(e) for e in v] for k, v in data.errors.items()}
    unit_position_record(
        unit=Unit.objects.get(pk=unit_id),
        lat=data.validated_data["lat"],
        lon=data.validated_data["lon"],
        accuracy_m=data.validated_data.get("accuracy_m"),
        recorded_at=data.validated_data["recorded_at"],
    )
    return {}
