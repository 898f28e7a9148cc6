"""Street presence from the units' event streams.

Events are appended directly with the timeline helper (the status services are written in
parallel); each is one status change of a unit, as the services record them.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.db import transaction

from apps.incidents.models import StreamKind
from apps.incidents.timeline import event_append
from apps.stats.selectors import street_presence
from apps.units.models import Unit
from tests.support.factories import SmallCity, at, small_city

pytestmark = pytest.mark.django_db


def city_from_the_day_before() -> SmallCity:
    """The units exist from 1 March: no presence is counted before a unit exists."""
    with time_machine.travel(at(1, 0), tick=False):
        return small_city()


def change(unit: Unit, when: datetime, from_state: str, to_state: str) -> None:
    with transaction.atomic():
        event_append(
            stream=StreamKind.UNIT,
            stream_id=unit.pk,
            kind="unit.status",
            at=when,
            unit=unit,
            from_state=from_state,
            to_state=to_state,
        )


def test_hours_per_status_follow_the_status_changes() -> None:
    city = city_from_the_day_before()
    u0 = city.units[0]
    change(u0, at(1, 7), "available", "patrolling")  # before the period
    change(u0, at(2, 10), "patrolling", "dispatched")
    change(u0, at(2, 10, 5), "dispatched", "en_route")
    change(u0, at(2, 10, 10), "en_route", "on_scene")
    change(u0, at(2, 10, 40), "on_scene", "available")
    change(u0, at(3, 1), "available", "patrolling")  # after the period
    result = {
        p.callsign: p
        for p in street_presence(start=date(2026, 3, 2), end=date(2026, 3, 2), now=at(5, 0))
    }
    hours = result["U0"].hours
    assert hours["patrolling"] == 10.0
    assert hours["dispatched"] == round(5 / 60, 2)
    assert hours["en_route"] == round(5 / 60, 2)
    assert hours["on_scene"] == 0.5
    assert hours["available"] == round(13 + 20 / 60, 2)
    assert sum(result["U0"].seconds.values()) == 24 * 3600
    # A unit that never changed spent the whole day in its status (available at post).
    assert result["U1"].hours["available"] == 24.0


def test_the_period_stops_at_now_and_filters_by_unit() -> None:
    city = city_from_the_day_before()
    u0 = city.units[0]
    change(u0, at(2, 10), "available", "patrolling")
    result = street_presence(
        start=date(2026, 3, 2), end=date(2026, 3, 2), unit_id=u0.pk, now=at(2, 12)
    )
    assert [p.callsign for p in result] == ["U0"]
    # No change before the period: the first change's from-state holds until it.
    assert result[0].hours == {
        "available": 10.0, "patrolling": 2.0, "dispatched": 0.0, "en_route": 0.0,
        "on_scene": 0.0, "out_of_service": 0.0,
    }  # fmt: skip
    assert result[0].to_dict()["hours"]["patrolling"] == 2.0
