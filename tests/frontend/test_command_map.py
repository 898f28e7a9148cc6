"""The command map in Chromium against a live daphne (see conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Incident
from frontend.api import health_key
from tests.support.browser import Live, expect, open_command_map, require_websockets, screenshot
from tests.support.factories import UserFactory, crew_member, small_city

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_command_map_shows_units_layers_and_dispatches_an_open_incident(
    phone: Any, live_daphne: Live, transactional_db: Any
) -> None:
    city = small_city()
    dispatcher = UserFactory(username="dispatcher", roles=[Role.DISPATCHER])
    incident = services.incident_create(
        actor=dispatcher,
        lat=22.775,
        lon=100.951,
        category="criminal",
        priority=1,
        address="思茅区人民中路8号",
    )
    cache.set(
        health_key(city.units[1].pk),
        {
            "app_version": "abc123",
            "notification_permission": "granted",
            "battery_level": 0.42,
            "gps_fix_age_s": 3,
            "queue_length": 2,
            "user": "crew",
            "received_at": timezone.now().isoformat(),
        },
    )
    page = open_command_map(phone, live_daphne, dispatcher)
    expect(page.locator("#incidents li")).to_have_count(1)
    expect(page.locator(f"#units li[data-unit='{city.units[1].pk}']")).to_contain_text("42%")
    expect(page.locator("#units li")).to_have_count(4)
    expect(page.locator(".leaflet-control-layers")).to_be_attached()
    expect(page.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "放大")
    expect(page.locator(".leaflet-control-layers-toggle")).to_have_attribute("title", "图层")
    page.click(f"#incidents li[data-incident='{incident.pk}']")
    expect(page.locator("#detail [data-dispatch]")).to_have_count(4)
    screenshot(page, "command-dispatch")
    page.click(f"#detail [data-dispatch='{city.units[0].pk}']")
    expect(page.locator("#detail")).to_have_attribute("data-status", "dispatched")
    incident.refresh_from_db()
    assert incident.status == "dispatched" and incident.unit_id == city.units[0].pk


def test_command_map_shows_a_unit_move_when_its_position_is_posted(
    phone: Any, live_daphne: Live, transactional_db: Any
) -> None:
    require_websockets()
    city = small_city()
    unit = city.units[0]
    crew_member(unit, username="crew")
    commander = UserFactory(username="commander", roles=[Role.COMMANDER])
    page = open_command_map(phone, live_daphne, commander)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    api = phone.request
    token = api.post("/api/auth/token/", data={"username": "crew", "password": "pw"}).json()[
        "token"
    ]
    for lat in (22.7801, 22.7901):
        posted = api.post(
            f"/api/units/{unit.pk}/position/",
            headers={"Authorization": f"Token {token}"},
            data={"lat": lat, "lon": 100.9512, "accuracy_m": 10, "recorded_at": _now_iso()},
        )
        assert posted.ok, posted.text()
        row = page.locator(f"#units li[data-unit='{unit.pk}']")
        expect(row).to_have_attribute("data-lat", str(lat))
        marker = page.evaluate("(id) => window.cadCommand.markers.get(id).getLatLng().lat", unit.pk)
        assert abs(marker - lat) < 1e-6  # the marker moved too (wgs84 tiles: no shift)
    screenshot(page, "command-unit-moved")
    assert not Incident.objects.exists()


def _now_iso() -> str:
    from django.utils import timezone

    return timezone.now().isoformat()


def test_command_map_shows_the_coverage_gap_when_a_unit_is_busy(
    phone: Any, live_daphne: Live, transactional_db: Any
) -> None:
    require_websockets()
    city = small_city()
    dispatcher = UserFactory(username="dispatcher", roles=[Role.DISPATCHER])
    page = open_command_map(phone, live_daphne, dispatcher)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    expect(page.locator("#moveup p")).not_to_have_count(0)
    assert page.locator("#moveup .gap").count() == 0
    # Unit U0 (point 点0 at the west edge) goes out: its area is no longer covered in time.
    incident = services.incident_create(
        actor=dispatcher, lat=22.79, lon=101.015, category="other", priority=3, address="东郊"
    )
    services.incident_dispatch(incident=incident, unit=city.units[0], actor=dispatcher)
    expect(page.locator("#moveup .gap")).to_contain_text(city.points[0].name, timeout=20_000)
    screenshot(page, "command-moveup")
