"""The writes of the delivery layer: counting alert re-sends and storing positions sent over a
socket. The consumers call these (in a worker thread); they call the owning apps' services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone

from apps.common.auth import tokens_still_valid
from apps.incidents.models import Alert
from apps.units.api import PositionIn
from apps.units.models import Unit
from apps.units.services import unit_position_record

from .selectors import audience_heads, pending_alert_frames


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


@dataclass(frozen=True)
class Arrival:
    """A socket that has just joined its groups: its audience, its user, the hash of the token
    it came with ("" for a session), its unit (0 for the command centre)."""

    audience: str
    user_id: int
    token_hash: str = ""
    unit_id: int = 0


@dataclass(frozen=True)
class Joined:
    """What the server knows once a socket has joined its groups: whether its credentials still
    authenticate, the last number issued to its audience, and the alerts to re-send it."""

    authenticated: bool
    head: int
    alerts: list[dict[str, Any]] = field(default_factory=list)


def sockets_joined(arrivals: list[Arrival]) -> dict[Arrival, Joined]:
    """For sockets that have joined their groups (many at once: a reconnect storm), in five
    queries whatever their number: are their tokens (or users) still good, the head of each
    audience, and the alerts awaiting a receipt (counted as sent)."""
    tokens = tokens_still_valid({a.token_hash for a in arrivals if a.token_hash})
    by_session = {a.user_id for a in arrivals if not a.token_hash}
    active = (
        set(User.objects.filter(pk__in=by_session, is_active=True).values_list("pk", flat=True))
        if by_session
        else set()
    )
    good = {
        a for a in arrivals if (a.token_hash in tokens if a.token_hash else a.user_id in active)
    }
    heads = audience_heads({a.audience for a in good})
    alerts = alerts_resend(unit_ids=[a.unit_id for a in good if a.unit_id])
    return {
        a: Joined(
            authenticated=a in good,
            head=heads.get(a.audience, 0),
            alerts=alerts.get(a.unit_id, []) if a in good and a.unit_id else [],
        )
        for a in arrivals
    }


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
