"""The pages and small endpoints behind the patrol app and the command map (no browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.places.models import PlaceKind
from apps.places.services import PlaceData, places_upsert
from frontend.api import health_key
from frontend.views import STATIC_DIR
from tests.support.factories import UserFactory, crew_member, small_city

pytestmark = pytest.mark.django_db

BUDGET_BYTES = 150 * 1024


@pytest.fixture
def city() -> Any:
    cache.clear()
    return small_city()


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_app_page_is_public_and_carries_the_map_config(settings: Any) -> None:
    settings.MAP_TILE_CRS = "gcj02"
    response = Client().get("/app/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in html
    assert "/static/leaflet/leaflet.js" in html and "/static/app/main.js" in html
    start = html.index('id="cad-config"')
    config = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert config["tileCrs"] == "gcj02"
    assert config["targets"] == {
        "acknowledge_s": 60,
        "arrival_priority_zone_s": 180,
        "arrival_s": 300,
        "short_priorities": [1],  # priority 1 gets the 3-minute target everywhere
    }
    assert len(config["version"]) == 12


def test_manifest_is_installable_shaped() -> None:
    response = Client().get("/app/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"
    assert manifest["theme_color"] and manifest["short_name"] and manifest["name"]
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        png = (STATIC_DIR / icon["src"].removeprefix("/static/")).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]


def test_service_worker_is_served_at_app_scope_with_version_and_precache() -> None:
    response = Client().get("/app/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/app/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert "__VERSION__" not in body and "__PRECACHE__" not in body
    assert '"/static/leaflet/leaflet.js"' in body and '"/static/app/main.js"' in body
    assert '"/app/"' in body


def test_app_js_and_css_on_disk_stay_within_the_first_load_budget() -> None:
    files = [
        p
        for sub in ("app", "common")
        for p in (STATIC_DIR / sub).rglob("*")
        if p.suffix in (".js", ".css") and p.name != "sw.js"
    ]
    assert files
    assert sum(p.stat().st_size for p in files) <= BUDGET_BYTES


def test_command_map_requires_a_commander_or_dispatcher_session(city: Any) -> None:
    client = Client()
    response = client.get("/command/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(crew_member(city.units[0]))
    assert client.get("/command/").status_code == 403
    client.force_login(UserFactory(roles=[Role.DISPATCHER]))
    response = client.get("/command/")
    assert response.status_code == 200
    assert b"/static/command/command.js" in response.content


def test_me_tells_a_crew_member_their_unit_shift_and_name(city: Any) -> None:
    user = crew_member(city.units[0], shift=2)
    body = _api(user).get("/api/me/").json()
    assert body["user"]["username"] == user.username
    assert body["roles"] == ["unit_auxiliary"]
    assert body["unit"]["id"] == city.units[0].pk
    assert body["unit"]["callsign"] == "U0"
    assert body["unit"]["staging_point"]["name"] == "点0"
    assert body["shift"]["assigned"] == 2 and body["shift"]["number"] in (1, 2, 3)
    assert body["person"]["name"]
    assert [s["name"] for s in body["stations"]] == ["西区派出所", "东区派出所"]


def test_me_without_a_unit_says_so_and_anonymous_is_refused(city: Any) -> None:
    assert _api(UserFactory(roles=[Role.DISPATCHER])).get("/api/me/").json()["unit"] is None
    assert APIClient().get("/api/me/").status_code in (401, 403)


HEALTH = {
    "app_version": "abc123",
    "notification_permission": "granted",
    "battery_level": 0.42,
    "gps_fix_age_s": 7,
    "queue_length": 2,
}


def test_heartbeat_is_kept_per_unit_and_shown_to_commanders(city: Any) -> None:
    crew = crew_member(city.units[0])
    response = _api(crew).post(f"/api/units/{city.units[0].pk}/health/", HEALTH, format="json")
    assert response.status_code == 200, response.content
    assert cache.get(health_key(city.units[0].pk))["queue_length"] == 2
    rows = _api(UserFactory(roles=[Role.COMMANDER])).get("/api/units/health/").json()
    by_unit = {r["callsign"]: r for r in rows}
    assert by_unit["U0"]["health"]["battery_level"] == 0.42
    assert by_unit["U0"]["health"]["user"] == crew.username
    assert by_unit["U0"]["age_s"] is not None
    assert by_unit["U1"]["health"] is None


def test_heartbeat_is_refused_for_another_unit_and_for_bad_input(city: Any) -> None:
    crew = crew_member(city.units[0])
    other = _api(crew).post(f"/api/units/{city.units[1].pk}/health/", HEALTH, format="json")
    assert other.status_code == 403
    bad = _api(crew).post(
        f"/api/units/{city.units[0].pk}/health/",
        {**HEALTH, "battery_level": 3, "queue_length": -1, "notification_permission": "maybe"},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) >= {"battery_level", "queue_length", "notification_permission"}
    assert cache.get(health_key(city.units[0].pk)) is None
    assert _api(crew).get("/api/units/health/").status_code == 403


def test_map_layers_are_geojson_for_operations_only(city: Any) -> None:
    body = _api(UserFactory(roles=[Role.DISPATCHER])).get("/api/map/layers/").json()
    assert body["stations"]["type"] == "FeatureCollection"
    assert len(body["stations"]["features"]) == 2
    points = body["staging_points"]["features"]
    assert points[0]["geometry"] == {"type": "Point", "coordinates": [100.95, 22.78]}
    cells = body["grid_cells"]["features"]
    assert len(cells) == 8
    assert cells[0]["geometry"]["type"] == "Polygon"
    assert sum(c["properties"]["priority_zone"] for c in cells) == 1
    assert _api(crew_member(city.units[0])).get("/api/map/layers/").status_code == 403


def test_the_base_map_is_the_gazetteer_s_roads_and_named_places(city: Any) -> None:
    line = {"type": "LineString", "coordinates": [[100.94, 22.78], [100.98, 22.78]]}
    places_upsert(
        places=[
            PlaceData(name="振兴大道", kind=PlaceKind.ROAD, lat=22.78, lon=100.96, line=line),
            PlaceData(name="无线路", kind=PlaceKind.ROAD, lat=22.77, lon=100.96),
            PlaceData(name="人民医院", kind=PlaceKind.POI, lat=22.781, lon=100.955),
            PlaceData(name="路口", kind=PlaceKind.INTERSECTION, lat=22.782, lon=100.956),
        ]
    )
    body = _api(crew_member(city.units[0])).get("/api/map/base/").json()
    assert [(f["properties"]["name"], f["geometry"]) for f in body["roads"]["features"]] == [
        ("振兴大道", line)
    ]
    assert [f["properties"] for f in body["places"]["features"]] == [
        {"name": "人民医院", "kind": "poi"}
    ]
    assert _api(UserFactory(roles=[Role.HR])).get("/api/map/base/").status_code == 403


@pytest.mark.parametrize(
    ("role", "where"),
    [
        (Role.DISPATCHER, "/command/"),
        (Role.COMMANDER, "/command/"),
        (Role.UNIT_AUXILIARY, "/app/"),
        (Role.HR, "/admin/"),
        (None, "/admin/"),
    ],
)
def test_the_root_sends_each_role_to_its_own_screen(city: Any, role: Any, where: str) -> None:
    client = Client()
    if role is not None:
        client.force_login(
            crew_member(city.units[0]) if role == Role.UNIT_AUXILIARY else UserFactory(roles=[role])
        )
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == where


def test_favicon_is_the_app_icon_not_a_404() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("app/icons/icon-192.png")


def test_frontend_has_no_build_step_leaflet_comes_from_django_leaflet() -> None:
    import leaflet

    assert (Path(leaflet.__file__).parent / "static" / "leaflet" / "leaflet.js").is_file()
    assert not (STATIC_DIR.parent / "package.json").exists()
