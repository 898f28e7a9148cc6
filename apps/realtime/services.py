"""The writes of the delivery layer: counting alert re-sends and storing positions sent over a
socket. The consumers call these (in a worker thread); they call the owning apps' services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import F
from django.utils import timezone

from apps.incidents.models import Alert
from apps.units.api import PositionIn
from apps.units.models import Unit
from apps.units.services import unit_position_record

from .selectors import pending_alert_frames


def alerts_mark_sent(*, alert_ids: list[uuid.UUID]) -> None:
    if alert_ids:
        Alert.objects.filter(id__in=alert_ids).update(
            send_count=F("send_count") + 1, last_sent_at=timezone.now()
        )


def alerts_resend(*, unit_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The frames of the alerts still awaiting a receipt, per unit; counts them as sent."""
    frames, alert_ids = pending_alert_frames(unit_ids)
    alerts_mark_sent(alert_ids=alert_ids)
    return frames


def alerts_resend_one(unit_id: int) -> list[dict[str, Any]]:
    return alerts_resend(unit_ids=[unit_id]).get(unit_id, [])


def position_record_frame(unit_id: int, frame: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a position fix sent over the socket. Returns per-field errors."""
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
