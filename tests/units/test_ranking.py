"""Recommendations: free units ranked by ETA from a fresh position or else the staging point."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from apps.units.models import Unit, UnitStatus
from apps.units.selectors import unit_recommendations
from tests.support.factories import UnitFactory, small_city

pytestmark = pytest.mark.django_db

# The incident is next to staging point 3 (lon 101.01).
LAT, LON = 22.78, 101.009


def _place(unit: Unit, lat: float, lon: float, age_s: float) -> None:
    Unit.objects.filter(pk=unit.pk).update(
        lat=lat, lon=lon, position_at=timezone.now() - timezone.timedelta(seconds=age_s)
    )


def test_units_without_positions_rank_by_their_staging_points() -> None:
    city = small_city()
    ranked = unit_recommendations(lat=LAT, lon=LON)
    assert [r.unit.callsign for r in ranked] == ["U3", "U2", "U1", "U0"]
    assert all(r.position_source == "staging_point" and r.position_age_s is None for r in ranked)
    assert ranked[0].eta_s < ranked[1].eta_s < ranked[2].eta_s
    assert ranked[0].unit == city.units[3]


def test_a_fresh_position_is_used_and_its_age_reported() -> None:
    city = small_city()
    with time_machine.travel("2026-06-01T04:00:00Z", tick=False):
        # U0 (posted far west) is patrolling right next to the incident.
        _place(city.units[0], LAT, LON + 0.0005, age_s=60)
        ranked = unit_recommendations(lat=LAT, lon=LON)
    top = ranked[0]
    assert top.unit.callsign == "U0"
    assert (top.position_source, top.position_age_s) == ("position", 60)
    assert top.distance_m < 100


def test_a_stale_position_falls_back_to_the_staging_point() -> None:
    city = small_city()
    with time_machine.travel("2026-06-01T04:00:00Z", tick=False):
        _place(city.units[0], LAT, LON + 0.0005, age_s=121)  # older than 2 minutes
        ranked = unit_recommendations(lat=LAT, lon=LON)
    u0 = next(r for r in ranked if r.unit.callsign == "U0")
    assert (u0.position_source, u0.position_age_s) == ("staging_point", 121)
    assert ranked[-1].unit.callsign == "U0"


@override_settings(DISPATCH_POSITION_MAX_AGE_S=600)
def test_the_position_age_limit_is_a_setting() -> None:
    city = small_city()
    _place(city.units[0], LAT, LON, age_s=300)
    assert unit_recommendations(lat=LAT, lon=LON)[0].unit.callsign == "U0"


def test_busy_and_out_of_service_units_are_not_recommended() -> None:
    city = small_city()
    Unit.objects.filter(pk=city.units[3].pk).update(status=UnitStatus.OUT_OF_SERVICE)
    Unit.objects.filter(pk=city.units[2].pk).update(status=UnitStatus.PATROLLING)
    assert [r.unit.callsign for r in unit_recommendations(lat=LAT, lon=LON)] == ["U2", "U1", "U0"]


@override_settings(DISPATCH_ROAD_DETOUR_FACTOR=2.0, DISPATCH_URBAN_SPEED_KMH=36)
def test_eta_uses_the_detour_factor_and_speed_settings() -> None:
    small_city()
    top = unit_recommendations(lat=LAT, lon=LON)[0]
    # 0.001° of longitude at 22.78° N is about 102.6 m; × 2 detour = ~205 m at 10 m/s.
    assert top.distance_m == pytest.approx(205, abs=3)
    assert top.eta_s == pytest.approx(20.5, abs=1)


def test_ranking_is_one_query_whatever_the_number_of_units(
    django_assert_num_queries: Any,
) -> None:
    city = small_city()
    Unit.objects.filter(pk__in=[u.pk for u in city.units]).update(status=UnitStatus.OUT_OF_SERVICE)
    for i in range(60):  # fresh fixes 100 m apart, eastwards from the incident
        unit = Unit.objects.create(callsign=f"X{i:02d}", staging_point=city.points[i % 4])
        _place(unit, LAT, LON + 0.001 * (i + 1), age_s=5)
    # The nearest units with their staging points, in one query; the 36 left out are provably
    # farther than the eighth.
    with django_assert_num_queries(1):
        ranked = unit_recommendations(lat=LAT, lon=LON)
        names = [r.unit.staging_point.name for r in ranked]
    assert [r.unit.callsign for r in ranked] == [f"X{i:02d}" for i in range(8)]
    assert len(names) == 8


def test_when_the_nearest_cannot_be_told_apart_every_unit_is_ranked(
    django_assert_num_queries: Any,
) -> None:
    """Forty units waiting at one staging point are at the same distance: the cut after the
    nearest 24 proves nothing, so every free unit is ranked (two more queries), by call sign."""
    city = small_city()
    Unit.objects.filter(pk__in=[u.pk for u in city.units]).update(status=UnitStatus.OUT_OF_SERVICE)
    for i in reversed(range(40)):
        Unit.objects.create(callsign=f"Y{i:02d}", staging_point=city.points[3])
    with django_assert_num_queries(3):
        ranked = unit_recommendations(lat=LAT, lon=LON)
    assert [r.unit.callsign for r in ranked] == [f"Y{i:02d}" for i in range(8)]
    assert all(r.position_source == "staging_point" for r in ranked)


@override_settings(DISPATCH_RECOMMENDATIONS=2)
def test_the_list_is_capped_by_a_setting() -> None:
    small_city()
    assert len(unit_recommendations(lat=LAT, lon=LON)) == 2


def test_the_databases_candidates_give_the_same_top_as_ranking_every_unit() -> None:
    """The SQL pre-selection (flat distance from each unit's origin) loses no unit that the full
    great-circle ranking would put in the top."""
    import random

    from django.conf import settings

    from apps.common.geo import LatLon
    from apps.units.routing_engine import StraightLineRouter
    from apps.units.selectors import unit_origin

    rng = random.Random(7)
    city = small_city()
    for i in range(80):
        unit = UnitFactory(callsign=f"R{i:02d}", staging_point=rng.choice(city.points))
        if rng.random() < 0.7:  # a fix, fresh or stale; the rest rank from their staging point
            _place(
                unit,
                22.74 + rng.random() * 0.08,
                100.93 + rng.random() * 0.10,
                rng.choice([5, 30, 90, 600, 3600]),
            )
    now = timezone.now()
    units = list(Unit.objects.select_related("staging_point"))
    origins = [unit_origin(u, now)[0] for u in units]
    for lat, lon in [(LAT, LON), (22.75, 100.94), (22.80, 100.99)]:
        router = StraightLineRouter(
            detour_factor=settings.DISPATCH_ROAD_DETOUR_FACTOR,
            speed_kmh=settings.DISPATCH_URBAN_SPEED_KMH,
        )
        travels = router.travel(origins, LatLon(lat, lon))
        full = sorted(
            (round(t.duration_s), round(t.distance_m), u.callsign)
            for u, t in zip(units, travels, strict=True)
            if t is not None
        )
        with time_machine.travel(now, tick=False):
            ranked = unit_recommendations(lat=lat, lon=lon, limit=6)
        assert [r.unit.callsign for r in ranked] == [c for _, _, c in full[:6]]
