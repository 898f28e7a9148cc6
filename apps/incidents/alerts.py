"""Dispatch alerts: the outbox row written with the dispatch, receipts, and withdrawal.

These are services (writes) of the delivery layer; the dispatch services call them inside their
own transaction, with the incident and the unit already locked.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.common.notices import notice_publish, unit_audience

from .events import DispatchAlert, IncidentBrief
from .models import Alert, Incident, StreamKind
from .timeline import event_append


def alert_create(*, incident: Incident, unit: Any, brief: IncidentBrief) -> Alert:
    """Write the alert and its numbered notice for the unit. Call inside the dispatch transaction.

    Any earlier pending alert of the same incident is withdrawn (re-dispatch).
    """
    now = timezone.now()
    Alert.objects.filter(
        incident=incident, delivered_at__isnull=True, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)
    alert_id = uuid.uuid4()
    frame = DispatchAlert(alert_id=str(alert_id), incident=brief).to_dict()
    notice = notice_publish(audience=unit_audience(unit.pk), type=frame.pop("type"), payload=frame)
    return Alert.objects.create(
        id=alert_id, incident=incident, unit=unit, seq=notice.seq, created_at=now
    )


def alerts_withdraw(*, incident: Incident) -> int:
    """Withdraw the pending alerts of an incident (unassigned or cancelled)."""
    return Alert.objects.filter(
        incident=incident, delivered_at__isnull=True, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())


def alert_receipt(*, alert_id: uuid.UUID, unit_id: int) -> bool:
    """Record the delivery receipt from the unit's app. Idempotent; False if unknown or not its.

    Locks the incident (the timeline stream) and claims the alert by compare-and-swap.
    """
    incident_id = (
        Alert.objects.filter(id=alert_id, unit_id=unit_id).values_list("incident_id", flat=True)
    ).first()
    if incident_id is None:
        return False
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        now = timezone.now()
        claimed = Alert.objects.filter(
            id=alert_id, unit_id=unit_id, delivered_at__isnull=True
        ).update(delivered_at=now)
        if claimed:
            event_append(
                stream=StreamKind.INCIDENT,
                stream_id=incident.pk,
                incident=incident,
                kind="alert_delivered",
                at=now,
                payload={"alert_id": str(alert_id), "unit": unit_id},
            )
    return True


def alerts_pending(*, unit_id: int) -> QuerySet[Alert]:
    return Alert.objects.filter(
        unit_id=unit_id, delivered_at__isnull=True, withdrawn_at__isnull=True
    ).order_by("created_at")


def alerts_mark_sent(*, alert_ids: list[uuid.UUID]) -> None:
    if alert_ids:
        Alert.objects.filter(id__in=alert_ids).update(
            send_count=F("send_count") + 1, last_sent_at=timezone.now()
        )
