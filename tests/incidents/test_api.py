"""The HTTP contract of the incident API: shapes, filters, bad inputs, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from django.db.models import Max
from django.test import override_settings
from django.utils import timezone

from apps.incidents.models import Event, Incident
from apps.units.models import GridCell, Station, Unit
from tests.support.api import api
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db

GOOD: dict[str, Any] = {
    "category": "dispute",
    "priority": 2,
    "location": {"lat": 22.775, "lon": 100.951},
    "address": "思茅区振兴大道1号",
    "description": "邻里纠纷",
    "caller_name": "张三",
    "caller_phone": "13800000000",
}


def _post(world: World, body: Any, **kw: Any) -> Any:
    return api(world.dispatcher).post("/api/incidents/", body, format="json", **kw)


def test_intake_answers_201_with_number_grid_station_and_ranked_units(world: World) -> None:
    response = _post(world, GOOD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "received"
    assert body["number"].startswith("110-")
    assert body["grid"]["code"] == "R0C0"
    assert body["station"] == {"id": world.city.stations[0].pk, "name": "西区派出所"}
    assert body["location"] == {"lat": 22.775, "lon": 100.951}
    recs = body["recommendations"]
    assert [r["callsign"] for r in recs] == ["U0", "U1", "U2", "U3"]
    assert set(recs[0]) >= {"unit", "callsign", "eta_s", "distance_m", "position_age_s"}
    assert recs[0]["position_source"] == "staging_point" and recs[0]["position_age_s"] is None
    assert recs[0]["eta_s"] < recs[1]["eta_s"]
    assert Incident.objects.get(pk=body["id"]).received_by == world.dispatcher


@override_settings(DISPATCH_AUTO=True)
def test_auto_dispatch_sends_the_top_ranked_unit_in_the_intake_request(world: World) -> None:
    response = _post(world, GOOD)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "dispatched"
    assert body["unit"] == {"id": world.unit.pk, "callsign": "U0"}


@override_settings(DISPATCH_AUTO=True)
def test_auto_dispatch_skips_a_unit_taken_meanwhile(world: World) -> None:
    # U0 is nearest but already busy: it is not even recommended, U1 is sent.
    advance(world, new_incident(world), "dispatched")
    body = _post(world, GOOD).json()
    assert body["unit"]["callsign"] == "U1"


BAD_INPUTS = [
    ("unknown category", {**GOOD, "category": "arson"}, "category"),
    ("latitude too high", {**GOOD, "location": {"lat": 91, "lon": 100.9}}, "location"),
    ("latitude too low", {**GOOD, "location": {"lat": -90.5, "lon": 100.9}}, "location"),
    ("longitude out of range", {**GOOD, "location": {"lat": 22, "lon": 181}}, "location"),
    ("latitude not a number", {**GOOD, "location": {"lat": "north", "lon": 1}}, "location"),
    ("latitude NaN", {**GOOD, "location": {"lat": "NaN", "lon": 1}}, "location"),
    ("missing location", {k: v for k, v in GOOD.items() if k != "location"}, "location"),
    ("location not an object", {**GOOD, "location": "22.7,100.9"}, "location"),
    ("address too long", {**GOOD, "address": "路" * 201}, "address"),
    ("description too long", {**GOOD, "description": "x" * 2001}, "description"),
    ("caller name too long", {**GOOD, "caller_name": "x" * 51}, "caller_name"),
    ("caller phone not a phone", {**GOOD, "caller_phone": "call me"}, "caller_phone"),
    ("priority out of range", {**GOOD, "priority": 4}, "priority"),
    ("missing address", {k: v for k, v in GOOD.items() if k != "address"}, "address"),
    ("far from the service area", {**GOOD, "location": {"lat": 0, "lon": 0}}, "location"),
]


@pytest.mark.parametrize(("name", "body", "field"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_intake_is_400_per_field_and_writes_nothing(
    world: World, name: str, body: dict[str, Any], field: str
) -> None:
    before = (Incident.objects.count(), Event.objects.count())
    response = _post(world, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert (Incident.objects.count(), Event.objects.count()) == before


def test_a_position_far_from_the_service_area_is_refused_and_one_near_it_is_taken(
    world: World,
) -> None:
    """Outside every grid cell and jurisdiction: taken within SERVICE_AREA_MARGIN_KM of them (a
    unit can go), refused beyond (a mistyped or default position, another city's call)."""
    north = max(
        model.objects.aggregate(north=Max("max_lat"))["north"] for model in (GridCell, Station)
    )
    far = _post(world, {**GOOD, "location": {"lat": north + 0.5, "lon": 100.951}})
    assert far.status_code == 400, far.content
    assert far.json()["location"] == [
        "该位置距本地服务区域 56 公里：请核对位置，或将警情转至当地110指挥中心。"
    ]
    near = _post(world, {**GOOD, "location": {"lat": north + 0.1, "lon": 100.951}})
    assert near.status_code == 201, near.content
    assert (near.json()["grid"], near.json()["station"]) == (None, None)
    with override_settings(SERVICE_AREA_MARGIN_KM=60):
        assert (
            _post(world, {**GOOD, "location": {"lat": north + 0.5, "lon": 100.951}}).status_code
            == 201
        )


@pytest.mark.parametrize("raw", ['{"category": "dispute",', "[1, 2", "not json", '{"a": NaN}'])
def test_malformed_json_is_400_and_writes_nothing(world: World, raw: str) -> None:
    before = (Incident.objects.count(), Event.objects.count())
    response = api(world.dispatcher).post("/api/incidents/", raw, content_type="application/json")
    assert response.status_code == 400
    assert (Incident.objects.count(), Event.objects.count()) == before


def test_a_json_array_body_is_400(world: World) -> None:
    response = _post(world, [GOOD])
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("dispatch", {}, "unit"),
        ("dispatch", {"unit": 999999}, "unit"),
        ("dispatch", {"unit": "U0"}, "unit"),
        ("cancel", {}, "reason"),
        ("cancel", {"reason": "x" * 1001}, "reason"),
        ("unassign", {"reason": ""}, "reason"),
    ],
)
def test_bad_transition_inputs_are_400_and_write_nothing(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    incident = advance(
        world, new_incident(world), "dispatched" if path == "unassign" else "received"
    )
    before = (Event.objects.count(), incident.status)
    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/{path}/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert (Event.objects.count(), Incident.objects.get(pk=incident.pk).status) == before


def test_bad_crew_inputs_are_400(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    client = api(world.auxiliary)
    url = f"/api/incidents/{incident.pk}"
    assert client.post(f"{url}/resolve/", {"summary": ""}, format="json").status_code == 400
    assert client.post(f"{url}/transfer/", {}, format="json").status_code == 400
    r = client.post(f"{url}/transfer/", {"reason": "x", "station": 987654}, format="json")
    assert r.status_code == 400 and "station" in r.json()
    assert Incident.objects.get(pk=incident.pk).status == "on_scene"


def test_full_lifecycle_over_http(world: World) -> None:
    incident_id = _post(world, GOOD).json()["id"]
    url = f"/api/incidents/{incident_id}"
    crew = api(world.auxiliary)
    steps = [
        (api(world.dispatcher), "dispatch", {"unit": world.unit.pk}, "dispatched"),
        (crew, "acknowledge", {}, "acknowledged"),
        (crew, "en-route", {}, "en_route"),
        (crew, "arrive", {}, "on_scene"),
        (crew, "transfer", {"reason": "需立案侦查"}, "transfer_pending"),
        (api(world.station_user), "receive-transfer", {}, "transfer_received"),
    ]
    for client, path, body, status in steps:
        response = client.post(f"{url}/{path}/", body, format="json")
        assert response.status_code == 200, (path, response.content)
        assert response.json()["status"] == status
    detail = api(world.commander).get(f"{url}/").json()
    assert [e["to_state"] for e in detail["events"]] == [
        "received",
        "dispatched",
        "acknowledged",
        "en_route",
        "on_scene",
        "transfer_pending",
        "transfer_received",
    ]
    assert detail["transfer_station"]["id"] == world.city.stations[0].pk
    assert detail["transfer_received_by"] == "west"


def test_illegal_transition_is_409_naming_the_current_state(world: World) -> None:
    incident = new_incident(world)
    response = api(world.dispatcher).post(f"/api/incidents/{incident.pk}/arrive/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition" and body["current_status"] == "received"
    assert body["detail"]


def test_dispatching_a_busy_unit_is_409(world: World) -> None:
    advance(world, new_incident(world), "dispatched")
    other = new_incident(world)
    response = api(world.dispatcher).post(
        f"/api/incidents/{other.pk}/dispatch/", {"unit": world.unit.pk}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "unit_busy"


def test_unknown_incident_is_404(world: World) -> None:
    client = api(world.dispatcher)
    assert client.get("/api/incidents/999999/").status_code == 404
    assert client.post("/api/incidents/999999/cancel/", {"reason": "x"}).status_code == 404


def test_list_filters_by_status_category_and_since_and_paginates(world: World) -> None:
    with time_machine.travel("2026-05-01T02:00:00Z"):
        old = new_incident(world, category="criminal")
    recent = advance(world, new_incident(world, category="assistance"), "dispatched")
    client = api(world.dispatcher)
    everything = client.get("/api/incidents/").json()
    assert everything["count"] == 2 and {"next", "previous", "results"} <= set(everything)
    by_status = client.get("/api/incidents/", {"status": "dispatched"}).json()["results"]
    assert [i["id"] for i in by_status] == [recent.pk]
    by_category = client.get("/api/incidents/", {"category": "criminal"}).json()["results"]
    assert [i["id"] for i in by_category] == [old.pk]
    since = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    assert [i["id"] for i in client.get("/api/incidents/", {"since": since}).json()["results"]] == [
        recent.pk
    ]
    page = client.get("/api/incidents/", {"page_size": 1}).json()
    assert len(page["results"]) == 1 and page["next"]


@pytest.mark.parametrize(
    "query", [{"status": "nope"}, {"category": "arson"}, {"since": "yesterday"}, {"page": "x"}]
)
def test_list_refuses_bad_filters_with_400_or_404(world: World, query: dict[str, str]) -> None:
    response = api(world.dispatcher).get("/api/incidents/", query)
    assert response.status_code in (400, 404)
    if "page" not in query:
        assert response.status_code == 400 and next(iter(query)) in response.json()


def test_list_makes_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        advance(world, new_incident(world), "received")
    client = api(world.dispatcher)
    client.get("/api/incidents/")  # warm the role cache of the user row
    with django_assert_max_num_queries(4):
        response = client.get("/api/incidents/")
    assert response.json()["count"] == 5


def test_schema_generates(world: World) -> None:
    response = api(world.dispatcher).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/incidents/",
        "/api/incidents/{id}/",
        "/api/incidents/{id}/dispatch/",
        "/api/incidents/{id}/receive-transfer/",
        "/api/units/",
        "/api/units/{id}/position/",
    ):
        assert path in text, path


def test_unit_list_shape(world: World) -> None:
    Unit.objects.filter(pk=world.unit.pk).update(
        lat=22.78, lon=100.95, position_at=timezone.now() - timezone.timedelta(seconds=30)
    )
    body = api(world.dispatcher).get("/api/units/").json()
    first = next(u for u in body if u["callsign"] == "U0")
    assert first["staging_point"] == {"id": world.city.points[0].pk, "name": "点0"}
    assert first["position"] == {"lat": 22.78, "lon": 100.95}
    assert 29 <= first["position_age_s"] <= 40
    assert first["status"] == "available" and first["current_incident"] is None
    silent = next(u for u in body if u["callsign"] == "U1")
    assert silent["position"] is None and silent["position_age_s"] is None


def test_json_bodies_round_trip(world: World) -> None:
    # The intake answer is plain JSON (no Decimal, no lazy strings).
    body = _post(world, GOOD).json()
    assert json.loads(json.dumps(body)) == body


@override_settings(DISPATCH_AUTO=True)
def test_auto_dispatch_with_no_free_unit_leaves_the_call_received(world: World) -> None:
    Unit.objects.update(status="out_of_service")
    response = _post(world, GOOD)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "received" and body["recommendations"] == []
