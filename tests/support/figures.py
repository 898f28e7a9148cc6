"""Hand-built sets of incidents whose figures the statistics tests work out by hand.

Incidents are written as rows with their timestamps (factories.incident_row), as history arrives.
"""

from __future__ import annotations

from datetime import date, timedelta

from apps.incidents.models import Category, Incident, IncidentStatus
from tests.support.factories import SmallCity, at, incident_row, small_city

S = IncidentStatus


def build_six() -> None:
    """Six incidents received at 10:00 on 2 March 2026 (the expected figures are worked out in
    tests/stats/test_response_figures.py)."""
    city = small_city()
    u = city.units
    zone = city.cells[0]  # R0C0: the priority zone (3-minute arrival target)
    t0 = at(2, 10)
    common = {"received_at": t0}
    incident_row(
        **common,
        category=Category.DISPUTE,
        status=S.RESOLVED_ON_SCENE,
        cell=zone,
        unit=u[0],
        dispatch_s=30,
        ack_s=40,
        arrive_s=170,
        close_s=600,
    )
    incident_row(
        **common,
        category=Category.DISPUTE,
        status=S.TRANSFER_PENDING,
        cell=city.cells[1],
        unit=u[1],
        dispatch_s=60,
        ack_s=90,
        arrive_s=250,
        close_s=1200,
        escalated_at=t0 + timedelta(seconds=120),
    )
    incident_row(
        **common,
        category=Category.ASSISTANCE,
        status=S.RESOLVED_ON_SCENE,
        cell=city.cells[5],
        unit=u[1],
        dispatch_s=20,
        ack_s=10,
        arrive_s=400,
        close_s=300,
        arrival_breached_at=t0 + timedelta(seconds=320),
    )
    incident_row(
        **common,
        category=Category.CRIMINAL,
        status=S.TRANSFER_RECEIVED,
        cell=city.cells[6],
        unit=u[2],
        dispatch_s=10,
        ack_s=60,
        arrive_s=300,
        close_s=900,
    )
    incident_row(
        **common,
        category=Category.OTHER,
        status=S.CANCELLED,
        cell=city.cells[2],
        unit=u[2],
        dispatch_s=40,
        close_s=100,
    )
    incident_row(**common, category=Category.PUBLIC_ORDER, status=S.RECEIVED, cell=city.cells[3])


# The model's two months (接警 5046 起, 移交 1088 起), by category: (total, transferred).
MODEL_NUMBERS = {
    Category.CRIMINAL: (327, 299),
    Category.PUBLIC_ORDER: (459, 412),
    Category.DISPUTE: (1286, 195),
    Category.ASSISTANCE: (2239, 131),
    Category.OTHER: (735, 51),
}
MODEL_START = date(2026, 1, 1)
MODEL_END = date(2026, 3, 2)  # 61 days


def build_model_two_months(city: SmallCity) -> None:
    rows = []
    i = 0
    for category, (total, transferred) in MODEL_NUMBERS.items():
        for k in range(total):
            cell = city.cells[i % 8]
            received = at(1, 0, month=1) + timedelta(days=i % 61, hours=i % 24, minutes=i % 60)
            status = S.TRANSFER_RECEIVED if k < transferred else S.RESOLVED_ON_SCENE
            rows.append(
                Incident(
                    number=f"M{i:06d}",
                    category=category,
                    priority=2,
                    status=status,
                    address="x",
                    lat=(cell.min_lat + cell.max_lat) / 2,
                    lon=(cell.min_lon + cell.max_lon) / 2,
                    grid_cell=cell,
                    station=cell.staging_point.station,
                    unit=city.units[i % 4],
                    received_at=received,
                    dispatched_at=received + timedelta(seconds=20),
                    acknowledged_at=received + timedelta(seconds=20 + 10 + i % 90),
                    arrived_at=received + timedelta(seconds=20 + 100 + i % 400),
                    closed_at=received + timedelta(seconds=3000),
                )
            )
            i += 1
    Incident.objects.bulk_create(rows, batch_size=1000)
