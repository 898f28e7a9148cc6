"""Coverage of incidents by staging points, and MCLP placement on instances with known optima.

Incidents are created directly as rows with timestamps (tests.support.factories.incident_row):
the lifecycle services are being written in parallel.
"""

from __future__ import annotations

import itertools
import random

import pytest
from django.test import override_settings

from apps.common.geo import haversine_m
from apps.incidents.models import Incident
from apps.planning.coverage import (
    DemandPoint,
    Site,
    cover_sets,
    coverage_of,
    coverage_report,
    eta_seconds,
    mclp,
    reach_m,
)
from tests.support.factories import at, incident_row, small_city


def covered_weight(weights: list[int], covers: list[frozenset[int]], chosen: list[int]) -> int:
    union: set[int] = set().union(*(covers[j] for j in chosen)) if chosen else set()
    return sum(weights[i] for i in union)


@override_settings(DISPATCH_ROAD_DETOUR_FACTOR=1.35, DISPATCH_URBAN_SPEED_KMH=30)
def test_eta_is_the_dispatch_straight_line_estimate() -> None:
    lat1, lon1, lat2, lon2 = 22.78, 100.97, 22.79, 100.98
    metres = haversine_m(lat1, lon1, lat2, lon2)
    assert eta_seconds(lat1, lon1, lat2, lon2) == pytest.approx(metres * 1.35 / (30 / 3.6))
    # 5 minutes at 30 km/h is 2500 m of road, 2500 / 1.35 m as the crow flies.
    assert reach_m(300) == pytest.approx(2500 / 1.35)


def test_swaps_repair_the_greedy_trap() -> None:
    # A covers 1–4 (weight 4) and is picked first; B = {1, 2, 5}, C = {3, 4, 6} each weigh 3.5
    # (points 5 and 6 weigh 1.5, here doubled to integers). Best pair: B + C (all six points).
    weights = [2, 2, 2, 2, 3, 3]
    covers = [frozenset({0, 1, 2, 3}), frozenset({0, 1, 4}), frozenset({2, 3, 5})]
    greedy_first = max(range(3), key=lambda j: sum(weights[i] for i in covers[j]))
    assert greedy_first == 0
    assert mclp(weights, covers, 2) == [1, 2]
    assert covered_weight(weights, covers, [1, 2]) == 14


@pytest.mark.parametrize("seed", range(5))
def test_placement_reaches_the_brute_force_optimum(seed: int) -> None:
    rng = random.Random(seed)
    demand = [
        DemandPoint(22.76 + rng.random() * 0.04, 100.94 + rng.random() * 0.08, rng.randint(1, 9))
        for _ in range(40)
    ]
    sites = [
        Site(22.76 + rng.random() * 0.04, 100.94 + rng.random() * 0.08, f"c{j}") for j in range(10)
    ]
    weights = [d.weight for d in demand]
    covers = cover_sets(sites, demand, 180)
    best = max(
        covered_weight(weights, covers, list(combo))
        for combo in itertools.combinations(range(10), 3)
    )
    chosen = mclp(weights, covers, 3)
    assert len(chosen) == 3
    assert covered_weight(weights, covers, chosen) == best


def test_coverage_counts_backup_from_two_sites() -> None:
    weights = [1, 2, 3]
    cov = coverage_of([frozenset({0, 1}), frozenset({1})], weights, 300)
    assert (cov.total, cov.covered, cov.backup) == (6, 3, 2)
    assert (cov.share, cov.backup_share) == (0.5, 0.3333)


@pytest.mark.django_db
@override_settings(DISPATCH_ROAD_DETOUR_FACTOR=1.35, DISPATCH_URBAN_SPEED_KMH=30)
def test_coverage_report_of_the_small_city() -> None:
    """Points at lon 100.95/100.97/100.99/101.01, lat 22.78; 0.01° of longitude ≈ 1026 m.

    3 minutes reach ≈ 1111 m, 5 minutes ≈ 1852 m (straight line).
    """
    city = small_city()
    t = at(2, 10)
    # At point p0: covered at 3 and 5 minutes (by p0 only: p1 is 2051 m away).
    incident_row(received_at=t, status="received", lat=22.78, lon=100.95)
    # Midway between p0 and p1 (≈ 1026 m from each): covered twice at 3 and at 5 minutes.
    incident_row(received_at=t, status="received", lat=22.78, lon=100.96)
    incident_row(received_at=t, status="received", lat=22.78, lon=100.96)
    # 0.015° east of p3 (≈ 1539 m): covered at 5 minutes only.
    incident_row(received_at=t, status="received", lat=22.78, lon=101.025)
    # 0.02° north of p2 (≈ 2224 m): not covered.
    incident_row(received_at=t, status="received", lat=22.80, lon=100.99)
    report = coverage_report(
        Incident.objects.all(),
        propose=4,
        candidates=[
            Site(22.78, 100.96, "mid01"),
            Site(22.79, 100.99, "north2"),
            Site(22.78, 101.02, "east3"),
            Site(22.76, 100.94, "corner"),
            Site(22.80, 101.02, "far"),
        ],
    )
    assert (report.incidents, report.demand_points) == (5, 4)
    c3, c5 = report.coverage["180s"], report.coverage["300s"]
    assert (c3.covered, c3.share, c3.backup) == (3, 0.6, 2)
    assert (c5.covered, c5.share, c5.backup) == (4, 0.8, 2)
    assert [p.covered for p in report.points] == [3, 2, 0, 1]
    assert [(d.lat, d.lon) for d in report.uncovered] == [(22.80, 100.99)]
    assert report.proposal is not None and report.proposal_coverage is not None
    # Every incident is reachable from the proposal (mid01, north2, east3 suffice).
    assert report.proposal_coverage.covered == 5
    assert {"mid01", "north2", "east3"} <= {s.label for s in report.proposal}
    assert report.to_dict()["coverage"]["300s"]["share"] == 0.8
    assert len(city.points) == 4
