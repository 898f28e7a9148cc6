"""Call-handling figures computed from incident data.

The incident lifecycle services are written in parallel with this module, so the incidents
here are created as Incident rows with their timestamps set directly. The figures come from
the one statistics service (apps.incidents.stats.response_figures).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.incidents.models import Incident, IncidentStatus
from apps.personnel.models import Assignment
from apps.personnel.selectors import (
    call_handling_figures,
    incidents_handled_by,
    person_call_handling,
)
from apps.units.models import GridCell, Unit
from tests.support.factories import GridCellFactory, PersonFactory, UnitFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def incident(
    unit: Unit,
    dispatched: datetime,
    *,
    ack_s: float | None,
    arrive_s: float | None,
    status: IncidentStatus = IncidentStatus.RESOLVED_ON_SCENE,
    cell: GridCell | None = None,
) -> Incident:
    return Incident.objects.create(
        number=f"T-{next(_numbers):06d}",
        category="dispute",
        priority=2,
        status=status,
        address="测试路",
        lat=22.78,
        lon=100.97,
        unit=unit,
        grid_cell=cell,
        received_at=dispatched - timedelta(seconds=30),
        dispatched_at=dispatched,
        acknowledged_at=dispatched + timedelta(seconds=ack_s) if ack_s is not None else None,
        arrived_at=dispatched + timedelta(seconds=arrive_s) if arrive_s is not None else None,
    )


def test_figures_from_a_set_of_incidents() -> None:
    unit = UnitFactory()
    normal = GridCellFactory(staging_point=unit.staging_point, priority_zone=False)
    priority = GridCellFactory(staging_point=unit.staging_point, priority_zone=True)
    t = datetime(2026, 3, 5, 10, tzinfo=SH)
    incident(unit, t, ack_s=30, arrive_s=200, cell=priority)  # arrival misses the 3-min target
    incident(unit, t, ack_s=50, arrive_s=170, cell=priority)
    incident(unit, t, ack_s=90, arrive_s=280, cell=normal, status=IncidentStatus.TRANSFER_PENDING)
    incident(unit, t, ack_s=40, arrive_s=400, cell=normal, status=IncidentStatus.TRANSFER_RECEIVED)
    incident(unit, t, ack_s=None, arrive_s=None, status=IncidentStatus.CANCELLED)

    f = call_handling_figures(incidents=Incident.objects.filter(unit=unit))

    assert f.incidents == 5
    assert f.acknowledge_median_s == 45.0  # 30, 40, 50, 90
    assert f.acknowledge_p90_s == pytest.approx(78.0)
    assert f.arrival_median_s == 240.0  # 170, 200, 280, 400
    assert f.acknowledge_within_target == 0.75
    assert f.arrival_within_target == 0.5  # 170 (priority ≤180) and 280 (normal ≤300)
    assert f.on_scene_resolution_rate == pytest.approx(2 / 4)


def test_no_incidents_gives_no_figures_rather_than_zeroes() -> None:
    f = call_handling_figures(incidents=Incident.objects.none())
    assert f.incidents == 0
    assert f.acknowledge_median_s is None
    assert f.on_scene_resolution_rate is None


def test_an_auxiliary_is_credited_with_the_incidents_of_their_unit_during_their_shift() -> None:
    unit = UnitFactory()
    other = UnitFactory()
    night = PersonFactory()
    Assignment.objects.create(
        person=night,
        staging_point=unit.staging_point,
        shift=3,  # 00:00–08:00 local
        valid_from=datetime(2026, 3, 1, tzinfo=SH),
        valid_to=datetime(2026, 3, 20, tzinfo=SH),
    )
    mine = incident(unit, datetime(2026, 3, 5, 3, tzinfo=SH), ack_s=20, arrive_s=100)
    incident(unit, datetime(2026, 3, 5, 10, tzinfo=SH), ack_s=20, arrive_s=100)  # day shift
    incident(other, datetime(2026, 3, 5, 3, tzinfo=SH), ack_s=20, arrive_s=100)  # other unit
    incident(unit, datetime(2026, 3, 25, 3, tzinfo=SH), ack_s=20, arrive_s=100)  # after posting
    incident(unit, datetime(2026, 2, 27, 3, tzinfo=SH), ack_s=20, arrive_s=100)  # before month

    start = datetime(2026, 3, 1, tzinfo=SH)
    handled = incidents_handled_by(person=night, start=start, end=datetime(2026, 4, 1, tzinfo=SH))
    assert list(handled) == [mine]
    assert person_call_handling(person=night, month=start.date()).incidents == 1
