"""The crews' reports (apps/field): duty status, the emergency button and its acknowledgement,
and requests for backup, over HTTP and through the real services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.common.errors import UnitBusy
from apps.common.models import Notice
from apps.common.sms import LocmemBackend
from apps.field.models import Emergency
from apps.field.services import unit_emergency_raise
from apps.incidents import services
from apps.incidents.models import Event, StreamKind
from apps.personnel.models import PersonKind
from apps.units.models import Unit, UnitStatus
from apps.units.services import unit_position_record
from tests.support.api import api
from tests.support.factories import PersonFactory, World, advance, crew_member, new_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_outbox() -> None:
    LocmemBackend.outbox.clear()


def _unit(world: World, index: int) -> Unit:
    return Unit.objects.get(pk=world.city.units[index].pk)


def _status(world: World, user: Any, index: int, body: dict[str, Any]) -> Any:
    return api(user).post(f"/api/units/{world.city.units[index].pk}/status/", body, format="json")


# --- duty status (勤务状态) ----------------------------------------------------------------------


def test_the_crew_puts_its_unit_out_of_service_with_a_reason(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        response = _status(
            world, world.auxiliary, 0, {"status": "out_of_service", "reason": "加油"}
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["callsign"], body["status"]) == (world.unit.pk, "U0", "out_of_service")
    assert parse_datetime(body["status_changed_at"]) == now
    unit = _unit(world, 0)
    assert (unit.status, unit.status_changed_at) == (UnitStatus.OUT_OF_SERVICE, now)
    event = Event.objects.get(stream=StreamKind.UNIT, stream_id=unit.pk, kind="duty_status")
    assert (event.from_state, event.to_state, event.reason, event.actor) == (
        "available",
        "out_of_service",
        "加油",
        world.auxiliary,
    )
    told = Notice.objects.get(audience="command", type="unit.updated")
    assert (told.payload["unit_id"], told.payload["status"]) == (unit.pk, "out_of_service")


@pytest.mark.parametrize(
    ("status", "stored"),
    [("patrolling", "patrolling"), ("at_post", "available"), ("available", "available")],
)
def test_a_crew_back_in_service_is_free_to_be_sent(world: World, status: str, stored: str) -> None:
    out = _status(world, world.officer, 0, {"status": "out_of_service", "reason": "就餐"})
    assert out.status_code == 200
    incident = new_incident(world)
    with pytest.raises(UnitBusy):
        services.incident_dispatch(incident=incident, unit=world.unit, actor=world.dispatcher)
    response = _status(world, world.officer, 0, {"status": status})
    assert response.status_code == 200
    assert response.json()["status"] == stored
    assert _unit(world, 0).status == stored
    incident = services.incident_dispatch(
        incident=incident, unit=world.unit, actor=world.dispatcher
    )
    assert incident.unit_id == world.unit.pk


def test_the_command_centre_sets_any_units_status_and_another_crew_cannot(world: World) -> None:
    assert _status(world, world.dispatcher, 3, {"status": "patrolling"}).status_code == 200
    assert _unit(world, 3).status == UnitStatus.PATROLLING
    refused = _status(world, world.other_crew, 0, {"status": "out_of_service", "reason": "x"})
    assert refused.status_code == 403
    assert _status(world, world.hr, 0, {"status": "patrolling"}).status_code == 403
    assert _unit(world, 0).status == UnitStatus.AVAILABLE


def test_duty_status_is_refused_while_the_unit_works_an_incident(world: World) -> None:
    incident = advance(world, new_incident(world), "en_route")
    response = _status(world, world.auxiliary, 0, {"status": "out_of_service", "reason": "故障"})
    assert response.status_code == 409
    assert response.json()["code"] == "unit_busy"
    unit = _unit(world, 0)
    assert (unit.status, unit.current_incident_id) == (UnitStatus.EN_ROUTE, incident.pk)
    # A backup works the incident as much as its primary does.
    services.incident_dispatch(incident=incident, unit=world.city.units[1], actor=world.dispatcher)
    assert _status(world, world.dispatcher, 1, {"status": "patrolling"}).status_code == 409
    assert _unit(world, 1).status == UnitStatus.DISPATCHED
    assert not Event.objects.filter(kind="duty_status").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "out_of_service"}, "reason"),
        ({"status": "out_of_service", "reason": "   "}, "reason"),
        ({"status": "on_scene"}, "status"),
        ({"status": "asleep"}, "status"),
        ({}, "status"),
    ],
    ids=["no-reason", "blank-reason", "incident-status", "unknown", "missing"],
)
def test_a_bad_duty_status_is_400(world: World, body: dict[str, Any], field: str) -> None:
    response = _status(world, world.auxiliary, 0, body)
    assert response.status_code == 400
    assert field in response.json()
    assert _unit(world, 0).status == UnitStatus.AVAILABLE


def test_duty_status_of_an_unknown_unit_is_404(world: World) -> None:
    response = api(world.dispatcher).post(
        "/api/units/999999/status/", {"status": "patrolling"}, format="json"
    )
    assert response.status_code == 404


# --- the emergency button (一键求助) -------------------------------------------------------------


def _commander_reachable_at(world: World, phone: str) -> None:
    """The commander's person record, with the mobile number the emergency texts go to."""
    PersonFactory(user=world.commander, kind=PersonKind.OFFICER, phone=phone)


def _press(world: World, body: dict[str, Any], user: Any = None) -> Any:
    return api(user or world.auxiliary).post(
        f"/api/units/{world.unit.pk}/emergency/", body, format="json"
    )


def test_the_emergency_button_alerts_the_command_centre_and_texts_the_commanders(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    _commander_reachable_at(world, "13900002222")
    pressed = timezone.now() - timedelta(seconds=20)
    with django_capture_on_commit_callbacks(execute=True):
        response = _press(
            world,
            {
                "lat": 22.781,
                "lon": 100.951,
                "accuracy_m": 12,
                "note": "被围攻",
                "occurred_at": pressed.isoformat(),
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["unit"], body["presses"], body["lat"], body["lon"], body["accuracy_m"]) == (
        world.unit.pk,
        1,
        22.781,
        100.951,
        12.0,
    )
    assert body["acknowledged_at"] is None
    emergency = Emergency.objects.get(pk=body["id"])
    assert (emergency.raised_by, emergency.raised_at, emergency.note) == (
        world.auxiliary,
        pressed,
        "被围攻",
    )
    assert emergency.incident is None

    frame = Notice.objects.get(audience="command", type="unit.emergency").payload
    assert frame["emergency_id"] == emergency.pk
    assert (frame["unit_id"], frame["callsign"], frame["presses"]) == (world.unit.pk, "U0", 1)
    assert frame["position"] == {"lat": 22.781, "lon": 100.951}
    assert frame["accuracy_m"] == 12.0
    # The free units nearest to it, the pressing unit left out, best first.
    nearest = frame["nearest"]
    assert [n["callsign"] for n in nearest] == ["U1", "U2", "U3"]
    assert [n["unit"] for n in nearest] == [u.pk for u in world.city.units[1:]]
    etas = [n["eta_s"] for n in nearest]
    assert etas == sorted(etas) and etas[0] > 0
    assert not Notice.objects.filter(type="unit.emergency").exclude(audience="command").exists()

    assert [m.phone for m in LocmemBackend.outbox] == ["13900002222"]
    assert "U0" in LocmemBackend.outbox[0].text
    assert "22.78100,100.95100" in LocmemBackend.outbox[0].text
    event = Event.objects.get(stream=StreamKind.UNIT, stream_id=world.unit.pk, kind="emergency")
    assert (event.actor, event.payload["press"]) == (world.auxiliary, 1)


def test_a_second_press_updates_the_same_emergency_and_texts_no_one_again(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    _commander_reachable_at(world, "13900002222")
    with django_capture_on_commit_callbacks(execute=True):
        first = _press(world, {"lat": 22.781, "lon": 100.951})
    with django_capture_on_commit_callbacks(execute=True):
        second = _press(world, {"lat": 22.782, "lon": 100.953}, user=world.officer)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    emergency = Emergency.objects.get()
    assert (emergency.presses, emergency.lat, emergency.lon) == (2, 22.782, 100.953)
    frames = Notice.objects.filter(audience="command", type="unit.emergency").order_by("seq")
    assert [(f.payload["presses"], f.payload["position"]) for f in frames] == [
        (1, {"lat": 22.781, "lon": 100.951}),
        (2, {"lat": 22.782, "lon": 100.953}),
    ]
    assert len(LocmemBackend.outbox) == 1


def test_a_press_without_a_fix_uses_the_units_last_known_position(world: World) -> None:
    unit_position_record(
        unit=world.unit, lat=22.7795, lon=100.9555, accuracy_m=30, recorded_at=timezone.now()
    )
    response = _press(world, {"note": "室内无信号"})
    assert response.status_code == 201
    assert (response.json()["lat"], response.json()["lon"]) == (22.7795, 100.9555)
    assert response.json()["accuracy_m"] == 30.0
    frame = Notice.objects.get(type="unit.emergency").payload
    assert frame["position"] == {"lat": 22.7795, "lon": 100.9555}
    assert len(frame["nearest"]) == 3


def test_a_press_without_any_position_still_alerts_with_no_nearest_units(world: World) -> None:
    response = _press(world, {})
    assert response.status_code == 201
    frame = Notice.objects.get(type="unit.emergency").payload
    assert (frame["position"], frame["nearest"]) == (None, [])


def test_a_second_press_without_a_fix_keeps_the_position_of_the_first(world: World) -> None:
    assert _press(world, {"lat": 22.781, "lon": 100.951}).status_code == 201
    assert _press(world, {}).status_code == 201
    emergency = Emergency.objects.get()
    assert emergency.presses == 2
    assert (emergency.lat, emergency.lon) == (22.781, 100.951)


def test_an_emergency_on_an_incident_names_it(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    response = _press(world, {"lat": 22.775, "lon": 100.951})
    assert response.status_code == 201
    assert Emergency.objects.get().incident == incident
    frame = Notice.objects.get(type="unit.emergency").payload
    assert (frame["incident_id"], frame["incident_number"]) == (incident.pk, incident.number)
    # The unit itself is busy, the others are ranked.
    assert [n["callsign"] for n in frame["nearest"]] == ["U1", "U2", "U3"]


@pytest.mark.parametrize("who", ["dispatcher", "commander", "other_crew", "station_user"])
def test_only_the_units_own_crew_presses_its_emergency_button(world: World, who: str) -> None:
    response = _press(world, {"lat": 22.781, "lon": 100.951}, user=getattr(world, who))
    assert response.status_code == 403
    assert not Emergency.objects.exists()
    assert not Notice.objects.filter(type="unit.emergency").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"lat": 22.781},
        {"lon": 100.951},
        {"lat": 91, "lon": 100.951},
        {"lat": 22.781, "lon": 100.951, "accuracy_m": -1},
        {"lat": "north", "lon": 100.951},
    ],
    ids=["lat-only", "lon-only", "lat-out-of-range", "negative-accuracy", "lat-not-a-number"],
)
def test_a_bad_emergency_position_is_400(world: World, body: dict[str, Any]) -> None:
    response = _press(world, body)
    assert response.status_code == 400
    assert not Emergency.objects.exists()


def test_an_emergency_with_lat_but_no_lon_names_the_location(world: World) -> None:
    response = _press(world, {"lat": 22.781})
    assert response.status_code == 400
    assert "location" in response.json()


def test_a_commander_acknowledges_an_emergency_once(world: World) -> None:
    emergency = unit_emergency_raise(
        unit=world.unit, actor=world.auxiliary, lat=22.781, lon=100.951
    )
    url = f"/api/emergencies/{emergency.pk}/acknowledge/"
    with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=False):
        seen = timezone.now()
        response = api(world.commander).post(url, {}, format="json")
    assert response.status_code == 200, response.content
    assert parse_datetime(response.json()["acknowledged_at"]) == seen
    emergency.refresh_from_db()
    assert (emergency.acknowledged_at, emergency.acknowledged_by) == (seen, world.commander)
    for audience in (f"unit:{world.unit.pk}", "command"):
        frame = Notice.objects.get(audience=audience, type="unit.emergency_acknowledged")
        assert frame.payload == {
            "emergency_id": emergency.pk,
            "unit_id": world.unit.pk,
            "acknowledged_at": seen.isoformat(),
            "acknowledged_by": "commander",
        }
    # Again: the same answer, nothing more written or pushed.
    again = api(world.commander).post(url, {}, format="json")
    assert again.status_code == 200
    assert parse_datetime(again.json()["acknowledged_at"]) == seen
    assert Notice.objects.filter(type="unit.emergency_acknowledged").count() == 2
    assert Event.objects.filter(kind="emergency_acknowledged").count() == 1
    # A press after that is a new emergency.
    assert _press(world, {"lat": 22.781, "lon": 100.951}).json()["presses"] == 1
    assert Emergency.objects.count() == 2


@pytest.mark.parametrize("who", ["dispatcher", "auxiliary", "station_user"])
def test_only_a_commander_acknowledges_an_emergency(world: World, who: str) -> None:
    emergency = unit_emergency_raise(unit=world.unit, actor=world.auxiliary)
    response = api(getattr(world, who)).post(
        f"/api/emergencies/{emergency.pk}/acknowledge/", {}, format="json"
    )
    assert response.status_code == 403
    emergency.refresh_from_db()
    assert emergency.acknowledged_at is None
    assert not Notice.objects.filter(type="unit.emergency_acknowledged").exists()


# --- asking for backup (请求增援) ---------------------------------------------------------------


def _ask(world: World, user: Any, incident_pk: int, body: dict[str, Any]) -> Any:
    return api(user).post(f"/api/incidents/{incident_pk}/request-backup/", body, format="json")


def test_a_crew_asks_for_backup_and_gets_the_free_units_ranked_by_eta(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    services.incident_dispatch(incident=incident, unit=world.city.units[1], actor=world.dispatcher)
    # U3 reports from close by: it now comes before U2, whose staging point is nearer than U3's.
    unit_position_record(
        unit=world.city.units[3], lat=22.776, lon=100.958, recorded_at=timezone.now()
    )
    response = _ask(world, world.auxiliary, incident.pk, {"count": 2, "reason": "对方人多"})
    assert response.status_code == 200, response.content
    nearest = response.json()["nearest"]
    # U0 (the primary) and U1 (its backup) work the incident: they are not offered.
    assert [(n["unit"], n["callsign"]) for n in nearest] == [
        (world.city.units[3].pk, "U3"),
        (world.city.units[2].pk, "U2"),
    ]
    assert nearest[0]["eta_s"] < nearest[1]["eta_s"]
    assert 0 < nearest[0]["distance_m"] < nearest[1]["distance_m"]
    assert set(nearest[0]) == {"unit", "callsign", "eta_s", "distance_m"}

    frame = Notice.objects.get(audience="command", type="incident.backup_requested").payload
    assert (frame["incident_id"], frame["number"], frame["count"], frame["reason"]) == (
        incident.pk,
        incident.number,
        2,
        "对方人多",
    )
    assert (frame["unit_id"], frame["callsign"]) == (world.unit.pk, "U0")
    assert frame["nearest"] == nearest
    event = Event.objects.get(
        stream=StreamKind.INCIDENT, stream_id=incident.pk, kind="backup_requested"
    )
    assert (event.actor, event.reason, event.unit_id) == (
        world.auxiliary,
        "对方人多",
        world.unit.pk,
    )
    assert event.payload == {"count": 2, "unit": world.unit.pk}
    assert (event.from_state, event.to_state) == ("on_scene", "on_scene")
    # Asking sends nobody: the dispatcher does, with a click.
    assert _unit(world, 3).status == UnitStatus.AVAILABLE
    assert _unit(world, 2).current_incident_id is None


def test_a_backups_crew_may_ask_for_more(world: World) -> None:
    crew1 = crew_member(world.city.units[1], username="crew1")
    incident = advance(world, new_incident(world), "on_scene")
    services.incident_dispatch(incident=incident, unit=world.city.units[1], actor=world.dispatcher)
    response = _ask(world, crew1, incident.pk, {"count": 1, "reason": "需要救护"})
    assert response.status_code == 200, response.content
    assert [n["callsign"] for n in response.json()["nearest"]] == ["U2", "U3"]
    frame = Notice.objects.get(type="incident.backup_requested").payload
    assert (frame["unit_id"], frame["callsign"], frame["count"]) == (
        world.city.units[1].pk,
        "U1",
        1,
    )


def test_only_the_crews_on_the_incident_ask_for_backup(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    body = {"count": 1, "reason": "对方人多"}
    # Another unit's crew does not see the incident; a station user sees it, may not ask.
    assert _ask(world, world.other_crew, incident.pk, body).status_code == 404
    assert _ask(world, world.station_user, incident.pk, body).status_code == 403
    assert not Event.objects.filter(kind="backup_requested").exists()
    assert not Notice.objects.filter(type="incident.backup_requested").exists()


def test_backup_for_an_incident_no_unit_works_is_refused(world: World) -> None:
    incident = new_incident(world)
    response = _ask(world, world.dispatcher, incident.pk, {"count": 1, "reason": "radio"})
    assert response.status_code == 409
    assert not Event.objects.filter(kind="backup_requested").exists()


def _asked(world: World, user: Any, incident_pk: int, count: int, reason: str) -> None:
    response = _ask(world, user, incident_pk, {"count": count, "reason": reason})
    assert response.status_code == 200, response.content


def test_a_backup_request_stays_in_the_command_snapshot_until_as_many_units_went(
    world: World,
) -> None:
    """A reloaded command map gets the requests still waiting for units (the snapshot): the
    latest of each open incident, until as many backups were sent since as it asked for."""
    from apps.field.selectors import backup_requests_open
    from apps.realtime.selectors import command_snapshot

    incident = advance(world, new_incident(world), "on_scene")
    assert command_snapshot()["backup_requests"] == []
    _asked(world, world.auxiliary, incident.pk, 1, "对方人多")
    _asked(world, world.auxiliary, incident.pk, 2, "还要两组")
    live = Notice.objects.filter(type="incident.backup_requested").order_by("-seq")[0]
    waiting = command_snapshot()["backup_requests"]
    # The latest request, as the live frame was (the same free units offered).
    assert waiting == [{**live.payload, "type": live.type}]
    assert (waiting[0]["count"], waiting[0]["reason"], waiting[0]["callsign"]) == (
        2,
        "还要两组",
        "U0",
    )

    services.incident_dispatch(incident=incident, unit=world.city.units[1], actor=world.dispatcher)
    (still,) = backup_requests_open()
    # One of two sent: still waiting, and the unit sent is no longer offered.
    assert world.city.units[1].pk not in [n["unit"] for n in still.nearest]
    services.incident_dispatch(incident=incident, unit=world.city.units[2], actor=world.dispatcher)
    assert backup_requests_open() == []


def test_a_closed_incidents_backup_request_is_not_in_the_snapshot(world: World) -> None:
    from apps.field.selectors import backup_requests_open

    incident = advance(world, new_incident(world), "on_scene")
    other = advance(world, new_incident(world, lat=22.79, lon=100.97), "received")
    services.incident_dispatch(incident=other, unit=world.city.units[1], actor=world.dispatcher)
    _asked(world, world.auxiliary, incident.pk, 1, "对方人多")
    _asked(world, world.dispatcher, other.pk, 1, "电台请求")
    assert [r.incident_id for r in backup_requests_open()] == [incident.pk, other.pk]
    services.incident_cancel(incident=incident, reason="误报", actor=world.dispatcher)
    (left,) = backup_requests_open()
    assert (left.incident_id, left.unit_id, left.callsign) == (other.pk, None, "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 0, "reason": "对方人多"}, "count"),
        ({"count": 11, "reason": "对方人多"}, "count"),
        ({"count": 1}, "reason"),
        ({"count": 1, "reason": ""}, "reason"),
    ],
    ids=["zero", "eleven", "no-reason", "blank-reason"],
)
def test_a_bad_backup_request_is_400(world: World, body: dict[str, Any], field: str) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    response = _ask(world, world.auxiliary, incident.pk, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Event.objects.filter(kind="backup_requested").exists()


def test_help_for_a_crew_on_no_incident_opens_a_priority_1_incident_at_the_press(
    world: World,
) -> None:
    assert _press(world, {"lat": 22.781, "lon": 100.952}).status_code == 201
    emergency = Emergency.objects.get()
    path = f"/api/emergencies/{emergency.pk}/incident/"
    assert api(world.auxiliary).post(path, {}, format="json").status_code == 403
    opened = api(world.dispatcher).post(path, {}, format="json")
    assert opened.status_code == 200, opened.content
    body = opened.json()
    assert (body["priority"], body["status"]) == (1, "received")
    assert (body["location"]["lat"], body["location"]["lon"]) == (22.781, 100.952)
    assert world.unit.callsign in body["address"]
    emergency.refresh_from_db()
    assert emergency.incident_id == body["id"]
    # Every command map hears the emergency again, now with the incident to dispatch to.
    frame = Notice.objects.filter(audience="command", type="unit.emergency").order_by("-seq")[0]
    assert frame.payload["incident_id"] == body["id"]
    # Asked twice (two dispatchers, a double click): the same incident.
    again = api(world.commander).post(path, {}, format="json").json()
    assert again["id"] == body["id"]
    sent = api(world.dispatcher).post(
        f"/api/incidents/{body['id']}/dispatch/", {"unit": world.city.units[1].pk}, format="json"
    )
    assert sent.status_code == 200


def test_help_without_a_position_must_be_placed_by_hand(world: World) -> None:
    unit_emergency_raise(unit=world.unit, actor=world.auxiliary)  # no fix, none known
    emergency = Emergency.objects.get()
    answer = api(world.dispatcher).post(
        f"/api/emergencies/{emergency.pk}/incident/", {}, format="json"
    )
    assert answer.status_code == 400 and "location" in answer.json()
