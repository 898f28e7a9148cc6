"""Calls: reported by the telephony link, then taken (by the incidents services) or closed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.errors import DomainError, ImplausibleTime
from apps.common.roles import Role, has_role, is_command_centre

from .models import Call, CallStatus, CloseReason
from .notify import notify_call_ringing, notify_call_updated


class CallTaken(DomainError):
    """The call was already taken or closed (by another call-taker, or a double click)."""

    code = "call_taken"


def can_report_calls(user: Any) -> bool:
    """The telephony link's service account (or a superuser, by hand)."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, Role.TELEPHONY)))


def call_report(
    *,
    actor: Any,
    received_at: datetime,
    caller_phone: str = "",
    line: str = "",
    lat: float | None = None,
    lon: float | None = None,
    accuracy_m: float | None = None,
) -> Call:
    """A ringing call, as the 110 platform reports it; the consoles are told at once.

    `received_at` is the platform's time of the call: not in the future (beyond the clock skew
    allowed to devices) and not older than CALL_REPORT_MAX_AGE_S (a call reported an hour late is
    not ringing any more).
    """
    if not can_report_calls(actor):
        raise PermissionDenied(_("Only the telephony link reports calls."))
    now = timezone.now()
    if received_at > now + timedelta(seconds=settings.ACTION_CLOCK_SKEW_S):
        raise ImplausibleTime(
            _("The call cannot have been received in the future."), field="received_at"
        )
    if received_at < now - timedelta(seconds=settings.CALL_REPORT_MAX_AGE_S):
        raise ImplausibleTime(
            _("The call is too old to be ringing (more than %(s)d s ago).")
            % {"s": settings.CALL_REPORT_MAX_AGE_S},
            field="received_at",
        )
    with transaction.atomic():
        call = Call.objects.create(
            caller_phone=caller_phone,
            line=line,
            received_at=min(received_at, now),
            reported_at=now,
            reported_by=actor if actor.is_authenticated else None,
            lat=lat,
            lon=lon,
            accuracy_m=accuracy_m,
        )
        notify_call_ringing(call)
    return call


def _settle(locked: Call, actor: Any, **changes: Any) -> Call:
    """A locked ringing call leaves the ringing list: its outcome, who took it, when."""
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.taken_by = actor if actor.is_authenticated else None
    locked.taken_at = timezone.now()
    locked.save(update_fields=[*changes, "taken_by", "taken_at"])
    return locked


def _lock_ringing(call: Call) -> Call:
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.status != CallStatus.RINGING:
        raise CallTaken(
            _("This call was already taken (%(status)s).")
            % {"status": locked.get_status_display()},
            call_status=locked.status,
        )
    return locked


def call_take(*, call: Call, incident: Any, status: str, actor: Any) -> Call:
    """Mark a ringing call as having opened `incident` or been linked to it. Runs in the incidents
    service's transaction (the incident row is locked first, then the call). The caller publishes
    `notify_call_updated` after its own notices (unit audiences before the command audience, the
    lock order of every service)."""
    assert status in (CallStatus.INCIDENT, CallStatus.LINKED)
    return _settle(_lock_ringing(call), actor, status=status, incident=incident)


def call_record_linked(*, incident: Any, actor: Any, caller_phone: str) -> Call:
    """A further call typed in by the call-taker (no telephony report): recorded as a call linked
    to `incident`, received now, so that the statistics count it as a call and not as an
    incident."""
    now = timezone.now()
    return Call.objects.create(
        caller_phone=caller_phone,
        received_at=now,
        reported_at=now,
        status=CallStatus.LINKED,
        incident=incident,
        taken_by=actor if actor.is_authenticated else None,
        taken_at=now,
    )


def call_close(*, call: Call, actor: Any, reason: str, note: str = "") -> Call:
    """Close a ringing call without an incident (hang-up, prank, enquiry, wrong number)."""
    if not is_command_centre(actor):
        raise PermissionDenied(_("Only the command centre closes calls."))
    if reason not in CloseReason.values:
        raise ValidationError({"reason": [_("Unknown reason.")]})
    with transaction.atomic():
        locked = _settle(
            _lock_ringing(call),
            actor,
            status=CallStatus.CLOSED,
            close_reason=reason,
            close_note=note,
        )
        notify_call_updated(locked)
    return locked
