"""Response figures of a hand-built set of incidents against hand-computed values.

Incidents are created directly as rows with timestamps (see tests.support.factories.incident_row):
the lifecycle services are being written in parallel.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from apps.incidents.models import Incident, IncidentStatus
from apps.stats.selectors import (
    IntervalFigures,
    percentile,
    response_figures,
    shift_of,
    shift_of_hour,
)
from tests.support.factories import at, incident_row, small_city
from tests.support.figures import build_six

pytestmark = pytest.mark.django_db

S = IncidentStatus


def test_percentile_interpolates_between_closest_ranks_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([10, 20, 30, 40, 60], 0.5) == 30
    assert percentile([10, 20, 30, 40, 60], 0.9) == pytest.approx(52.0)
    assert percentile([10, 40, 60, 90], 0.5) == pytest.approx(50.0)


def test_response_figures_match_hand_computed_values() -> None:
    build_six()
    figures = response_figures(Incident.objects.all(), now=at(3, 0))

    assert figures.count == 6
    assert figures.intake_to_dispatch == IntervalFigures(n=5, median_s=30.0, p90_s=52.0)
    assert figures.dispatch_to_acknowledge == IntervalFigures(n=4, median_s=50.0, p90_s=81.0)
    assert figures.dispatch_to_arrival == IntervalFigures(n=4, median_s=275.0, p90_s=370.0)
    assert figures.arrival_to_close == IntervalFigures(n=4, median_s=750.0, p90_s=1110.0)
    # Acknowledged within 60 s: 40, 10, 60 (inclusive), not 90; the cancelled, never
    # acknowledged call is not counted.
    assert (figures.acknowledge_due, figures.acknowledge_within_target) == (4, 3)
    assert figures.acknowledge_target_share == 0.75
    # Arrival: 170 ≤ 180 (priority zone), 250 ≤ 300, 400 > 300, 300 ≤ 300.
    assert (figures.arrival_due, figures.arrival_within_target) == (4, 3)
    assert figures.arrival_target_share == 0.75
    assert (figures.resolved_on_scene, figures.transferred, figures.closed) == (2, 2, 4)
    assert figures.on_scene_rate == 0.5
    assert (figures.escalations, figures.breaches) == (1, 1)
    assert figures.exact is True
    as_dict = figures.to_dict()
    assert as_dict["dispatch_to_arrival"] == {"n": 4, "median_s": 275.0, "p90_s": 370.0}


def test_a_priority_zone_call_arriving_in_four_minutes_misses_its_target() -> None:
    city = small_city()
    incident_row(
        received_at=at(2, 10),
        cell=city.cells[0],
        unit=city.units[0],
        dispatch_s=5,
        ack_s=5,
        arrive_s=240,
        close_s=60,
    )
    figures = response_figures(Incident.objects.all(), now=at(3, 0))
    assert (figures.arrival_due, figures.arrival_within_target) == (1, 0)
    assert figures.arrival_target_share == 0.0


def test_targets_count_only_once_their_outcome_is_known() -> None:
    city = small_city()
    now = at(2, 10, 10)
    # Dispatched 30 s ago, not yet acknowledged: neither target is due.
    incident_row(
        received_at=now - timedelta(seconds=40),
        status=S.DISPATCHED,
        cell=city.cells[1],
        unit=city.units[1],
        dispatch_s=10,
    )
    # Dispatched 2 minutes ago and still not acknowledged: the acknowledge target is missed.
    incident_row(
        received_at=now - timedelta(seconds=130),
        status=S.DISPATCHED,
        cell=city.cells[1],
        unit=city.units[2],
        dispatch_s=10,
    )
    figures = response_figures(Incident.objects.all(), now=now)
    assert (figures.acknowledge_due, figures.acknowledge_within_target) == (1, 0)
    assert figures.acknowledge_target_share == 0.0
    assert figures.arrival_due == 0 and figures.arrival_target_share is None
    assert figures.on_scene_rate is None


def test_figures_of_nothing_are_zero_counts_and_no_rates() -> None:
    figures = response_figures(Incident.objects.none(), now=at(3, 0))
    assert figures.count == 0
    assert figures.dispatch_to_arrival == IntervalFigures(n=0, median_s=None, p90_s=None)
    assert figures.acknowledge_target_share is None


@override_settings(SHIFT_START_HOURS=[8, 16, 0])
def test_shifts_follow_the_configured_start_hours() -> None:
    assert [shift_of_hour(h) for h in (0, 7, 8, 15, 16, 23)] == [3, 3, 1, 1, 2, 2]
    assert shift_of(at(2, 7, 59)) == 3
    assert shift_of(at(2, 8, 0)) == 1
