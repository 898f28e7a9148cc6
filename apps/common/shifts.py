"""The three shifts of a staging point's crew, from SHIFT_START_HOURS (Asia/Shanghai hours).

One module answers "which shift is it" for the roster, the statistics and the patrol app; with the
default 8,16,0 shift 3 runs 00:00–08:00, and with e.g. 7,15,23 it wraps past midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    shift: int
    start: datetime
    end: datetime


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def shift_of_hour(hour: int) -> int:
    """The shift (1, 2, 3) whose start hour is the latest at or before ``hour``, cyclically."""
    starts = settings.SHIFT_START_HOURS
    return min(range(3), key=lambda i: (hour - starts[i]) % 24) + 1


def shift_lengths_h() -> dict[int, int]:
    """Hours of each shift: from its start hour to the next shift's start (mod 24)."""
    return {shift: sum(1 for h in range(24) if shift_of_hour(h) == shift) for shift in (1, 2, 3)}


def shift_hours(shift: int) -> list[int]:
    """The local hours of day (0–23) a shift covers, in order from its start."""
    start = settings.SHIFT_START_HOURS[shift - 1]
    return [(start + k) % 24 for k in range(shift_lengths_h()[shift])]


def shift_of(moment: datetime) -> int:
    return shift_of_hour(timezone.localtime(moment, _zone()).hour)


def shift_at(at: datetime) -> ShiftWindow:
    """The shift running at an aware moment, with its window."""
    local = timezone.localtime(at, _zone())
    shift = shift_of_hour(local.hour)
    start = local.replace(hour=settings.SHIFT_START_HOURS[shift - 1], minute=0, second=0)
    start = start.replace(microsecond=0)
    if start > local:
        start -= timedelta(days=1)
    return ShiftWindow(shift, start, start + timedelta(hours=shift_lengths_h()[shift]))


def current_shift(at: datetime | None = None) -> int:
    return shift_at(at or timezone.now()).shift


def shift_window(day: date, shift: int) -> ShiftWindow:
    """The window of a shift that starts on a local calendar day."""
    hour = settings.SHIFT_START_HOURS[shift - 1]
    start = datetime.combine(day, time(hour), tzinfo=_zone())
    return ShiftWindow(shift, start, start + timedelta(hours=shift_lengths_h()[shift]))
