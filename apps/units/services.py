"""Writes about units that are not incident transitions: position reports.

A unit's status follows its incident and is changed only by apps.incidents.services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import PositionFix, Unit
from .notify import notify_unit_position


@dataclass(frozen=True)
class PositionResult:
    # Whether the unit's latest position was replaced (False for an older, late report).
    updated: bool
    # Whether a breadcrumb was stored (False when throttled).
    breadcrumb: bool


def unit_position_record(
    *,
    unit: Unit,
    lat: float,
    lon: float,
    recorded_at: datetime,
    accuracy_m: float | None = None,
) -> PositionResult:
    """Store a position report from a unit's crew.

    The latest position is replaced by compare-and-swap (only by a newer report), so a late
    report never moves a unit back in time and no row lock is held. A breadcrumb (PositionFix)
    is stored at most once per POSITION_FIX_MIN_INTERVAL_S per unit, and only the newest
    POSITION_FIX_KEEP are kept.
    """
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    if not -90 <= lat <= 90:
        errors["lat"] = [_("Latitude must be within −90..90.")]
    if not -180 <= lon <= 180:
        errors["lon"] = [_("Longitude must be within −180..180.")]
    if accuracy_m is not None and accuracy_m < 0:
        errors["accuracy_m"] = [_("Accuracy cannot be negative.")]
    if recorded_at > now + timedelta(seconds=settings.POSITION_MAX_FUTURE_S):
        errors["recorded_at"] = [_("The time of the fix is in the future.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        updated = bool(
            Unit.objects.filter(pk=unit.pk)
            .filter(Q(position_at__isnull=True) | Q(position_at__lt=recorded_at))
            .update(lat=lat, lon=lon, position_accuracy_m=accuracy_m, position_at=recorded_at)
        )
        interval = timedelta(seconds=settings.POSITION_FIX_MIN_INTERVAL_S)
        throttled = PositionFix.objects.filter(
            unit=unit,
            recorded_at__gt=recorded_at - interval,
            recorded_at__lt=recorded_at + interval,
        ).exists()
        if not throttled:
            PositionFix.objects.create(
                unit=unit,
                lat=lat,
                lon=lon,
                accuracy_m=accuracy_m,
                recorded_at=recorded_at,
                received_at=now,
            )
            _trim_fixes(unit)
        if updated:
            notify_unit_position(unit, lat=lat, lon=lon, at=recorded_at)
    return PositionResult(updated=updated, breadcrumb=not throttled)


def _trim_fixes(unit: Unit) -> None:
    keep = settings.POSITION_FIX_KEEP
    cutoff = (
        PositionFix.objects.filter(unit=unit)
        .order_by("-recorded_at", "-pk")
        .values_list("recorded_at", flat=True)[keep : keep + 1]
    )
    oldest_dropped = next(iter(cutoff), None)
    if oldest_dropped is not None:
        PositionFix.objects.filter(unit=unit, recorded_at__lte=oldest_dropped).delete()
