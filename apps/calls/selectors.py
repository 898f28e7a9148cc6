"""Reading calls: the console's ringing list, a caller's earlier calls."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import Call, CallStatus


def calls_ringing() -> QuerySet[Call]:
    """Calls still waiting for a call-taker, oldest first. A call left ringing longer than
    CALL_RINGING_SHOW_S is not offered any more (the caller has long hung up); it stays in the
    statistics as a call nobody took."""
    since = timezone.now() - timedelta(seconds=settings.CALL_RINGING_SHOW_S)
    return Call.objects.filter(status=CallStatus.RINGING, received_at__gte=since).order_by(
        "received_at"
    )


def calls_of_caller(phone: str, *, days: int) -> QuerySet[Call]:
    since = timezone.now() - timedelta(days=days)
    return Call.objects.filter(caller_phone=phone, received_at__gte=since).order_by("-received_at")
