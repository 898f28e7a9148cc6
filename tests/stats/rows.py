"""Incidents written directly as rows with their timestamps.

The lifecycle services (apps/incidents/services.py) are written in parallel with the statistics,
and historical data arrives with its timestamps anyway; so statistics tests build finished
incidents as rows, the way the importer does.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apps.incidents.models import Category, Incident, IncidentStatus
from apps.units.models import GridCell, Unit

SH = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(day: int, hour: int, minute: int = 0, *, month: int = 3) -> datetime:
    """An Asia/Shanghai moment in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def incident_row(
    *,
    received_at: datetime,
    category: str = Category.DISPUTE,
    status: str = IncidentStatus.RESOLVED_ON_SCENE,
    cell: GridCell | None = None,
    unit: Unit | None = None,
    dispatch_s: float | None = None,
    ack_s: float | None = None,
    arrive_s: float | None = None,
    close_s: float | None = None,
    **extra: Any,
) -> Incident:
    """An incident whose timestamps are offsets: dispatch after receipt, ack and arrival after
    dispatch, close after arrival (or after receipt when it never arrived)."""
    dispatched = received_at + timedelta(seconds=dispatch_s) if dispatch_s is not None else None
    acked = dispatched + timedelta(seconds=ack_s) if dispatched and ack_s is not None else None
    arrived = (
        dispatched + timedelta(seconds=arrive_s) if dispatched and arrive_s is not None else None
    )
    closed = None
    if close_s is not None:
        closed = (arrived or received_at) + timedelta(seconds=close_s)
    if cell is not None:
        lat = (cell.min_lat + cell.max_lat) / 2
        lon = (cell.min_lon + cell.max_lon) / 2
        extra.setdefault("station", cell.staging_point.station)
    else:
        lat, lon = extra.pop("lat", 22.78), extra.pop("lon", 100.97)
    if unit is None and status not in (IncidentStatus.RECEIVED, IncidentStatus.CANCELLED):
        raise ValueError("a dispatched incident needs a unit")
    return Incident.objects.create(
        number=f"T{next(_numbers):08d}",
        category=category,
        priority=2,
        status=status,
        address="测试地址",
        lat=lat,
        lon=lon,
        grid_cell=cell,
        unit=unit,
        received_at=received_at,
        dispatched_at=dispatched,
        acknowledged_at=acked,
        arrived_at=arrived,
        en_route_at=acked,
        closed_at=closed,
        **extra,
    )
