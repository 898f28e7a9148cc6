"""POST /api/units/{id}/position/: the crew's position reports."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.units.models import PositionFix, Unit
from tests.support.factories import UserFactory, crew_member, small_city

pytestmark = pytest.mark.django_db

NOW = "2026-06-01T04:00:00+00:00"


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _fix(lat: float = 22.781, lon: float = 100.951, at: str = NOW, **kw: Any) -> dict[str, Any]:
    return {"lat": lat, "lon": lon, "accuracy_m": 8.5, "recorded_at": at, **kw}


@pytest.fixture
def setup() -> tuple[Unit, APIClient]:
    # Posted a month before the reports below (crew status depends on the assignment dates).
    with time_machine.travel("2026-05-20T00:00:00+00:00"):
        city = small_city()
        unit = city.units[0]
        return unit, _client(crew_member(unit))


@time_machine.travel(NOW, tick=False)
def test_crew_report_updates_the_latest_position_and_stores_a_breadcrumb(
    setup: tuple[Unit, APIClient],
) -> None:
    unit, client = setup
    response = client.post(f"/api/units/{unit.pk}/position/", _fix(), format="json")
    assert response.status_code == 200
    assert response.json() == {"updated": True, "breadcrumb": True}
    unit.refresh_from_db()
    assert (unit.lat, unit.lon, unit.position_accuracy_m) == (22.781, 100.951, 8.5)
    assert unit.position_at == timezone.now()
    assert PositionFix.objects.filter(unit=unit).count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_late_older_report_does_not_move_the_unit_back(setup: tuple[Unit, APIClient]) -> None:
    unit, client = setup
    client.post(f"/api/units/{unit.pk}/position/", _fix(), format="json")
    older = _fix(lat=22.7, at="2026-06-01T03:59:00+00:00")
    body = client.post(f"/api/units/{unit.pk}/position/", older, format="json").json()
    assert body == {"updated": False, "breadcrumb": True}
    unit.refresh_from_db()
    assert unit.lat == 22.781


@override_settings(POSITION_FIX_MIN_INTERVAL_S=5)
def test_breadcrumbs_are_throttled_per_unit(setup: tuple[Unit, APIClient]) -> None:
    unit, client = setup
    with time_machine.travel(NOW, tick=False) as traveller:
        stored = []
        for second in (0, 2, 4, 6, 12):
            traveller.move_to(f"2026-06-01T04:00:{second:02d}+00:00")
            at = timezone.now().isoformat()
            body = client.post(f"/api/units/{unit.pk}/position/", _fix(at=at), format="json").json()
            assert body["updated"] is True
            stored.append(body["breadcrumb"])
    assert stored == [True, False, False, True, True]
    assert PositionFix.objects.filter(unit=unit).count() == 3


@override_settings(POSITION_FIX_KEEP=3, POSITION_FIX_MIN_INTERVAL_S=1)
def test_only_the_newest_breadcrumbs_are_kept(setup: tuple[Unit, APIClient]) -> None:
    unit, client = setup
    with time_machine.travel(NOW, tick=False) as traveller:
        for minute in range(6):
            traveller.move_to(f"2026-06-01T04:0{minute}:00+00:00")
            client.post(
                f"/api/units/{unit.pk}/position/",
                _fix(at=timezone.now().isoformat()),
                format="json",
            )
    kept = list(
        PositionFix.objects.filter(unit=unit)
        .order_by("recorded_at")
        .values_list("recorded_at__minute", flat=True)
    )
    assert kept == [3, 4, 5]


BAD = [
    ("lat", _fix(lat=90.5)),
    ("lat", _fix(lat=-91)),
    ("lon", _fix(lon=180.01)),
    ("lat", _fix(lat="NaN")),
    ("accuracy_m", _fix(accuracy_m=-1)),
    ("recorded_at", _fix(at="2026-06-01T05:00:00+00:00")),  # an hour in the future
    ("recorded_at", _fix(at="soon")),
    ("recorded_at", {"lat": 22.7, "lon": 100.9}),
]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("field", "body"), BAD)
def test_bad_reports_are_400_and_change_nothing(
    setup: tuple[Unit, APIClient], field: str, body: dict[str, Any]
) -> None:
    unit, client = setup
    response = client.post(f"/api/units/{unit.pk}/position/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    unit.refresh_from_db()
    assert unit.position_at is None and not PositionFix.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_only_the_units_own_crew_may_report(setup: tuple[Unit, APIClient]) -> None:
    unit, _ = setup
    with time_machine.travel("2026-05-20T00:00:00+00:00"):
        other_crew = crew_member(Unit.objects.exclude(pk=unit.pk).first())  # type: ignore[arg-type]
    for user in (
        other_crew,
        UserFactory(roles=[Role.DISPATCHER]),
        UserFactory(roles=[Role.COMMANDER]),
        UserFactory(roles=[Role.HR]),
        UserFactory(roles=[Role.STATION]),
    ):
        response = _client(user).post(f"/api/units/{unit.pk}/position/", _fix(), format="json")
        assert response.status_code == 403
    assert _client(other_crew).post("/api/units/999999/position/", _fix()).status_code == 404
    unit.refresh_from_db()
    assert unit.position_at is None
