"""Live coverage gap and move-up suggestions (incidents and a busy unit written as rows)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from apps.incidents.models import IncidentStatus
from apps.planning.coverage import coverage_gap
from apps.units.models import UnitStatus
from tests.support.factories import at, incident_row, small_city

pytestmark = pytest.mark.django_db


@override_settings(DISPATCH_ROAD_DETOUR_FACTOR=1.35, DISPATCH_URBAN_SPEED_KMH=30)
def test_a_busy_points_area_is_covered_by_the_free_unit_leaving_the_least_behind() -> None:
    """Each point reaches only its own column of cells in 5 minutes (neighbours are 2 km away).

    History: 5 incidents in each column-1 cell (plus the one U1 is on), 1 in each column-2 cell;
    cell weights are incidents + 1, so the areas weigh p0 2, p1 13, p2 4, p3 2 (total 21).
    """
    city = small_city()
    now = at(2, 12)
    for cell in city.cells:
        n = {1: 5, 2: 1}.get(cell.col, 0)
        for _ in range(n):
            incident_row(received_at=now - timedelta(days=3), status="received", cell=cell)
    busy = incident_row(
        received_at=now - timedelta(minutes=5),
        status=IncidentStatus.DISPATCHED,
        cell=city.cells[1],
        unit=city.units[1],
        dispatch_s=10,
    )
    city.units[1].status = UnitStatus.DISPATCHED
    city.units[1].current_incident = busy
    city.units[1].save(update_fields=["status", "current_incident"])

    gap = coverage_gap(now=now)

    assert (gap.demand, gap.covered, gap.share) == (21, 8, 0.381)
    assert gap.uncovered_points == ["p1"]
    # U0 (gain 13 − 2) and U3 (13 − 2) tie; U0 is nearer. U2 would gain only 13 − 4.
    [move] = gap.moves
    assert (move.to_point, move.callsign, move.from_point, move.net_gain) == ("p1", "U0", "p0", 11)
    assert (gap.covered_after_moves, gap.share_after_moves) == (19, 0.9048)
    assert gap.to_dict()["moves"][0]["callsign"] == "U0"


def test_no_gap_means_no_moves() -> None:
    small_city()
    gap = coverage_gap(now=at(2, 12))
    assert gap.uncovered_points == [] and gap.moves == []
    assert gap.share == 1.0
