"""The call-taker's console over HTTP: taking a ringing call into an incident, closing it, linking
a further call to an open incident, notes, and the checks before dispatch (nearby incidents, the
caller's history, the units for a point)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.audit.verify import verify_incident_rows, verify_streams
from apps.calls.models import Call
from apps.common.models import AccessLog, Notice
from apps.incidents.models import Event, Incident
from apps.stats.selectors import summary
from tests.calls.conftest import Ring
from tests.support.api import api
from tests.support.concurrency import race
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db

INTAKE: dict[str, Any] = {
    "category": "dispute",
    "priority": 2,
    "location": {"lat": 22.775, "lon": 100.951},
    "address": "思茅区振兴大道1号",
    "description": "邻里纠纷",
    "caller_name": "张三",
}
# One metre of latitude, in degrees (the nearby checks place incidents by metres).
LAT_M = 1 / 111_320


def _take(user: User, call_id: int | None, **kw: Any) -> Any:
    body = {**INTAKE, **({"call": call_id} if call_id is not None else {})}
    return api(user).post("/api/incidents/", body, format="json", **kw)


def _counts() -> tuple[int, int]:
    return Incident.objects.count(), Event.objects.count()


def _when(value: str) -> Any:
    return parse_datetime(value)


# --- taking a call ----------------------------------------------------------------------------


def test_taking_a_call_opens_an_incident_received_when_the_call_was(
    world: World, ring: Ring
) -> None:
    call = ring(ago_s=45, caller_phone="13911112222", line="110-3")
    response = _take(world.dispatcher, call["id"])
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "received"
    # The answer masks the number as every list does; the detail shows it to the command centre.
    assert created["caller_phone"] == "139****2222"
    incident = Incident.objects.get(pk=created["id"])
    assert incident.received_at == _when(call["received_at"])
    assert incident.caller_phone == "13911112222"

    row = Call.objects.get(pk=call["id"])
    assert (row.status, row.incident_id, row.taken_by) == (
        "incident",
        incident.pk,
        world.dispatcher,
    )
    assert row.taken_at is not None and row.taken_at >= row.received_at

    detail = api(world.commander).get(f"/api/incidents/{incident.pk}/").json()
    assert detail["caller_phone"] == "13911112222"
    assert {**detail["call"], "received_at": None, "taken_at": None} == {
        "id": row.pk,
        "status": "incident",
        "line": "110-3",
        "received_at": None,
        "taken_at": None,
    }
    assert _when(detail["call"]["received_at"]) == row.received_at
    assert _when(detail["call"]["taken_at"]) == row.taken_at
    assert [c["id"] for c in detail["calls"]] == [row.pk]
    received = detail["events"][0]
    assert received["kind"] == "received" and received["payload"]["call"] == row.pk
    assert _when(received["at"]) == row.received_at

    # Off every console's ringing list, and the consoles are told.
    assert api(world.commander).get("/api/calls/").json() == []
    updated = Notice.objects.get(audience="command", type="call.updated")
    assert updated.payload["call_id"] == row.pk and updated.payload["status"] == "incident"
    assert updated.payload["incident_id"] == incident.pk
    assert list(verify_streams()) == [] and list(verify_incident_rows()) == []


def test_a_typed_caller_number_wins_over_the_calls(world: World, ring: Ring) -> None:
    call = ring(caller_phone="13911112222")
    body = {**INTAKE, "call": call["id"], "caller_phone": "0879-1234567"}
    response = api(world.dispatcher).post("/api/incidents/", body, format="json")
    assert response.status_code == 201
    assert Incident.objects.get(pk=response.json()["id"]).caller_phone == "0879-1234567"


def test_an_incident_typed_in_without_a_call_has_no_call(world: World) -> None:
    created = _take(world.dispatcher, None).json()
    detail = api(world.dispatcher).get(f"/api/incidents/{created['id']}/").json()
    assert detail["call"] is None and detail["calls"] == []


@pytest.mark.parametrize("call", [999999, "abc", {"id": 1}])
def test_intake_naming_an_unknown_call_is_400_and_writes_nothing(
    world: World, ring: Ring, call: Any
) -> None:
    ring()
    before = _counts()
    response = api(world.dispatcher).post(
        "/api/incidents/", {**INTAKE, "call": call}, format="json"
    )
    assert response.status_code == 400
    assert "call" in response.json()
    assert _counts() == before


def test_a_double_submitted_intake_with_one_key_opens_one_incident(
    world: World, ring: Ring
) -> None:
    call = ring()
    first = _take(world.dispatcher, call["id"], HTTP_IDEMPOTENCY_KEY="intake-7f3a")
    again = _take(world.dispatcher, call["id"], HTTP_IDEMPOTENCY_KEY="intake-7f3a")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1
    assert Call.objects.get(pk=call["id"]).incident_id == first.json()["id"]


def test_a_double_submitted_intake_without_a_call_opens_one_incident(world: World) -> None:
    first = _take(world.dispatcher, None, HTTP_IDEMPOTENCY_KEY="intake-0001")
    again = _take(world.dispatcher, None, HTTP_IDEMPOTENCY_KEY="intake-0001")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Incident.objects.count() == 1


@pytest.mark.parametrize("keys", [("desk-a-1", "desk-b-1"), (None, None)], ids=["keys", "no-keys"])
def test_a_call_taken_twice_opens_one_incident_and_the_second_is_409(
    world: World, ring: Ring, keys: tuple[str | None, str | None]
) -> None:
    call = ring()
    kw = [{"HTTP_IDEMPOTENCY_KEY": k} if k else {} for k in keys]
    first = _take(world.dispatcher, call["id"], **kw[0])
    assert first.status_code == 201
    before = _counts()
    second = _take(world.commander, call["id"], **kw[1])
    assert second.status_code == 409
    assert second.json()["code"] == "call_taken" and second.json()["detail"]
    assert _counts() == before
    row = Call.objects.get(pk=call["id"])
    assert (row.incident_id, row.taken_by) == (first.json()["id"], world.dispatcher)


def test_a_closed_call_cannot_be_taken_into_an_incident(world: World, ring: Ring) -> None:
    call = ring()
    closed = api(world.dispatcher).post(f"/api/calls/{call['id']}/close/", {"reason": "enquiry"})
    assert closed.status_code == 200
    before = _counts()
    response = _take(world.dispatcher, call["id"])
    assert response.status_code == 409 and response.json()["code"] == "call_taken"
    assert _counts() == before
    assert Call.objects.get(pk=call["id"]).status == "closed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a real race needs concurrent connections; SQLite serialises every writer",
)
def test_call_takers_racing_for_one_call_let_exactly_one_win(world: World, ring: Ring) -> None:
    """Twelve consoles answer the same ringing call at once: four open an incident, four close it,
    four link it to an open incident. Exactly one of them gets it; nothing of the others stays."""
    open_incident = advance(world, new_incident(world), "dispatched")
    call = ring()
    incidents_before = Incident.objects.count()
    links_before = Event.objects.filter(kind="call_linked").count()

    def answer(i: int) -> tuple[str, int, str]:
        user = world.dispatcher if i % 2 else world.commander
        if i % 3 == 0:
            response = _take(user, call["id"])
            what = "intake"
        elif i % 3 == 1:
            response = api(user).post(f"/api/calls/{call['id']}/close/", {"reason": "other"})
            what = "close"
        else:
            response = api(user).post(
                f"/api/incidents/{open_incident.pk}/calls/", {"call": call["id"]}, format="json"
            )
            what = "link"
        body = response.json()
        return (
            what,
            response.status_code,
            body.get("code", "") if response.status_code >= 400 else "",
        )

    results = race(12, answer)
    codes = Counter(code for _, code, _ in results)
    assert codes[409] == 11 and codes[200] + codes[201] == 1, results
    assert {c for _, code, c in results if code == 409} == {"call_taken"}
    winner = next(what for what, code, _ in results if code < 300)
    row = Call.objects.get(pk=call["id"])
    expected_status = {"intake": "incident", "close": "closed", "link": "linked"}[winner]
    assert row.status == expected_status
    assert Incident.objects.count() == incidents_before + (winner == "intake")
    assert Event.objects.filter(kind="call_linked").count() == links_before + (winner == "link")
    assert Notice.objects.filter(type="call.updated").count() == 1
    assert list(verify_streams()) == [] and list(verify_incident_rows()) == []


# --- closing a call -------------------------------------------------------------------------


def test_closing_a_call_records_the_reason_and_takes_it_off_the_list(
    world: World, ring: Ring
) -> None:
    call = ring()
    response = api(world.commander).post(
        f"/api/calls/{call['id']}/close/", {"reason": "prank", "note": "反复拨打"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed" and response.json()["incident_id"] is None
    row = Call.objects.get(pk=call["id"])
    assert (row.status, row.close_reason, row.close_note) == ("closed", "prank", "反复拨打")
    assert row.taken_by == world.commander and row.taken_at is not None
    assert api(world.dispatcher).get("/api/calls/").json() == []
    assert Incident.objects.count() == 0
    notice = Notice.objects.get(type="call.updated")
    assert notice.payload["close_reason"] == "prank" and notice.audience == "command"


def test_a_second_close_is_409_and_keeps_the_first_reason(world: World, ring: Ring) -> None:
    call = ring()
    url = f"/api/calls/{call['id']}/close/"
    assert api(world.commander).post(url, {"reason": "hang_up"}).status_code == 200
    again = api(world.dispatcher).post(url, {"reason": "prank"})
    assert again.status_code == 409
    assert again.json()["code"] == "call_taken"
    row = Call.objects.get(pk=call["id"])
    assert (row.close_reason, row.taken_by) == ("hang_up", world.commander)


def test_closing_a_call_already_taken_into_an_incident_is_409(world: World, ring: Ring) -> None:
    call = ring()
    assert _take(world.dispatcher, call["id"]).status_code == 201
    response = api(world.commander).post(f"/api/calls/{call['id']}/close/", {"reason": "prank"})
    assert response.status_code == 409 and response.json()["code"] == "call_taken"
    assert Call.objects.get(pk=call["id"]).status == "incident"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "bored"}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "other", "note": "x" * 501}, "note"),
        ({"reason": "other", "note": 12}, "note"),
    ],
)
def test_a_bad_close_is_400_per_field_and_leaves_the_call_ringing(
    world: World, ring: Ring, body: dict[str, Any], field: str
) -> None:
    call = ring()
    response = api(world.dispatcher).post(f"/api/calls/{call['id']}/close/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Call.objects.get(pk=call["id"]).status == "ringing"


@pytest.mark.parametrize("who", ["hr", "officer", "auxiliary", "station_user"])
def test_only_the_command_centre_closes_calls(world: World, ring: Ring, who: str) -> None:
    call = ring()
    response = api(getattr(world, who)).post(f"/api/calls/{call['id']}/close/", {"reason": "prank"})
    assert response.status_code == 403
    assert Call.objects.get(pk=call["id"]).status == "ringing"


def test_closing_an_unknown_call_is_404(world: World) -> None:
    response = api(world.dispatcher).post("/api/calls/999999/close/", {"reason": "prank"})
    assert response.status_code == 404


# --- a further call about an open incident --------------------------------------------------


@time_machine.travel("2026-03-02T02:00:00Z")
def test_a_linked_call_goes_on_the_timeline_and_the_incident_is_counted_once(
    world: World, ring: Ring
) -> None:
    first = ring(ago_s=120)
    incident_id = _take(world.dispatcher, first["id"]).json()["id"]
    incident = advance(world, Incident.objects.get(pk=incident_id), "dispatched")
    further = ring(ago_s=10, caller_phone="13600001111")
    hung_up = ring(ago_s=5)
    assert api(world.dispatcher).post(f"/api/calls/{hung_up['id']}/close/", {"reason": "hang_up"})

    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/calls/",
        {"call": further["id"], "caller_name": "李四", "description": "对方动手了"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == incident.pk and response.json()["status"] == "dispatched"

    row = Call.objects.get(pk=further["id"])
    assert (row.status, row.incident_id, row.taken_by) == ("linked", incident.pk, world.dispatcher)
    detail = api(world.dispatcher).get(f"/api/incidents/{incident.pk}/").json()
    linked = [e for e in detail["events"] if e["kind"] == "call_linked"]
    assert len(linked) == 1
    assert linked[0]["payload"]["call"] == row.pk
    assert linked[0]["payload"]["caller_name"] == "李四"
    assert linked[0]["reason"] == "对方动手了"
    assert linked[0]["actor"] == "dispatcher"
    assert linked[0]["from_state"] == linked[0]["to_state"] == "dispatched"
    assert detail["call"]["id"] == first["id"]
    assert [(c["id"], c["status"]) for c in detail["calls"]] == [
        (first["id"], "incident"),
        (row.pk, "linked"),
    ]
    # The crew on the way hears of the further call as well as the command centre.
    told = Notice.objects.filter(type="incident.updated", payload__kind="call_linked")
    assert {n.audience for n in told} == {"command", f"unit:{world.unit.pk}"}

    stats = api(world.commander).get(
        "/api/stats/summary/", {"start": "2026-03-02", "end": "2026-03-02"}
    )
    assert stats.status_code == 200, stats.content
    body = stats.json()
    assert body["total"] == 1
    assert body["calls"] == {
        "reported": 3,
        "opened_incident": 1,
        "linked": 1,
        "closed": 1,
        "not_taken": 0,
        "closed_by_reason": {
            "hang_up": 1,
            "prank": 0,
            "enquiry": 0,
            "wrong_number": 0,
            "other": 0,
        },
    }
    assert list(verify_streams()) == [] and list(verify_incident_rows()) == []


@time_machine.travel("2026-03-02T02:00:00Z")
def test_a_typed_further_call_is_recorded_as_a_linked_call(world: World) -> None:
    incident = new_incident(world)
    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/calls/",
        {"caller_phone": "13600001111", "description": "又打来"},
        format="json",
    )
    assert response.status_code == 200, response.content
    call = Call.objects.get()
    assert (call.status, call.incident_id, call.caller_phone) == (
        "linked",
        incident.pk,
        "13600001111",
    )
    event = Event.objects.get(stream_id=incident.pk, kind="call_linked")
    assert event.payload["call"] == call.pk
    figures = summary(start=timezone.localdate(), end=timezone.localdate())
    assert figures.total == 1
    assert (figures.calls.reported, figures.calls.linked) == (1, 1)


@pytest.mark.parametrize("state", ["cancelled", "resolved_on_scene"])
def test_a_further_call_about_a_closed_incident_is_409_and_leaves_the_call_ringing(
    world: World, ring: Ring, state: str
) -> None:
    incident = advance(world, new_incident(world), state)
    call = ring()
    events = Event.objects.count()
    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/calls/", {"call": call["id"]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current_status"] == state
    assert Call.objects.get(pk=call["id"]).status == "ringing"
    assert Event.objects.count() == events
    # Nor is a typed call recorded against it.
    typed = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/calls/", {"caller_phone": "13600001111"}, format="json"
    )
    assert typed.status_code == 409
    assert Call.objects.count() == 1


def test_linking_a_call_already_taken_is_409_and_writes_no_event(world: World, ring: Ring) -> None:
    call = ring()
    other = Incident.objects.get(pk=_take(world.dispatcher, call["id"]).json()["id"])
    incident = new_incident(world)
    events = Event.objects.count()
    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/calls/", {"call": call["id"]}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "call_taken"
    assert Event.objects.count() == events
    assert Call.objects.get(pk=call["id"]).incident_id == other.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"call": 999999}, "call"),
        ({"caller_phone": "call me"}, "caller_phone"),
        ({"caller_name": "x" * 51}, "caller_name"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_a_bad_further_call_is_400_and_writes_nothing(
    world: World, body: dict[str, Any], field: str
) -> None:
    incident = new_incident(world)
    before = (Event.objects.count(), Call.objects.count())
    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/calls/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert (Event.objects.count(), Call.objects.count()) == before


@pytest.mark.parametrize("who", ["officer", "auxiliary", "station_user", "hr"])
def test_only_the_command_centre_links_calls(world: World, ring: Ring, who: str) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    call = ring()
    response = api(getattr(world, who)).post(
        f"/api/incidents/{incident.pk}/calls/", {"call": call["id"]}, format="json"
    )
    assert response.status_code == 403
    assert Call.objects.get(pk=call["id"]).status == "ringing"


def test_linking_to_an_unknown_incident_is_404(world: World) -> None:
    response = api(world.dispatcher).post("/api/incidents/999999/calls/", {}, format="json")
    assert response.status_code == 404


# --- notes (续报) ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dispatcher", "commander", "officer", "auxiliary"])
def test_the_command_centre_and_the_owning_crew_add_notes(world: World, who: str) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    response = api(getattr(world, who)).post(
        f"/api/incidents/{incident.pk}/notes/", {"text": "  嫌疑人已离开  "}, format="json"
    )
    assert response.status_code == 200, response.content
    note = Event.objects.get(stream_id=incident.pk, kind="note")
    assert note.payload == {"text": "嫌疑人已离开"}
    assert note.actor == getattr(world, who)
    assert Incident.objects.get(pk=incident.pk).status == "on_scene"


def test_another_units_crew_cannot_add_a_note(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    response = api(world.other_crew).post(
        f"/api/incidents/{incident.pk}/notes/", {"text": "x"}, format="json"
    )
    # Outside its scope the incident does not exist for that crew (as on GET and every
    # transition): refused without telling it the incident's state.
    assert response.status_code == 404
    assert not Event.objects.filter(kind="note").exists()


def test_a_station_user_who_sees_the_incident_cannot_add_a_note(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    assert api(world.station_user).get(f"/api/incidents/{incident.pk}/").status_code == 200
    response = api(world.station_user).post(
        f"/api/incidents/{incident.pk}/notes/", {"text": "x"}, format="json"
    )
    assert response.status_code == 403
    assert not Event.objects.filter(kind="note").exists()


def test_the_crew_cannot_add_a_note_once_the_incident_is_closed(world: World) -> None:
    incident = advance(world, new_incident(world), "resolved_on_scene")
    crew = api(world.auxiliary).post(
        f"/api/incidents/{incident.pk}/notes/", {"text": "补充"}, format="json"
    )
    assert crew.status_code == 409
    command = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/notes/", {"text": "补充"}, format="json"
    )
    assert command.status_code == 200
    assert Event.objects.filter(kind="note").count() == 1


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {}, {"text": "x" * 2001}])
def test_a_blank_or_long_note_is_400_on_text(world: World, body: dict[str, Any]) -> None:
    incident = new_incident(world)
    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/notes/", body, format="json"
    )
    assert response.status_code == 400
    assert "text" in response.json()
    assert not Event.objects.filter(kind="note").exists()


def test_a_note_replayed_with_the_same_key_is_written_once(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    client = api(world.auxiliary)
    url = f"/api/incidents/{incident.pk}/notes/"
    first = client.post(url, {"text": "已到现场"}, format="json", HTTP_IDEMPOTENCY_KEY="note-1")
    again = client.post(url, {"text": "已到现场"}, format="json", HTTP_IDEMPOTENCY_KEY="note-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.filter(kind="note").count() == 1


# --- the caller's number on the command map ---------------------------------------------------


def test_the_masked_detail_writes_no_access_log_and_the_full_one_does(world: World) -> None:
    incident = new_incident(world, caller_phone="13800000000")
    client = api(world.commander)
    masked = client.get(f"/api/incidents/{incident.pk}/", {"caller": "masked"})
    assert masked.status_code == 200
    assert masked.json()["caller_phone"] == "138****0000"
    assert AccessLog.objects.count() == 0
    full = client.get(f"/api/incidents/{incident.pk}/")
    assert full.json()["caller_phone"] == "13800000000"
    log = AccessLog.objects.get()
    assert (log.user, log.action) == (world.commander, "caller_record_viewed")
    assert log.target == f"incidents.incident:{incident.pk}"


# --- before dispatch: incidents nearby, the caller's history, units for a point --------------


def _nearby(world: World, lat: float, lon: float, **params: Any) -> Any:
    return api(world.dispatcher).get("/api/incidents/nearby/", {"lat": lat, "lon": lon, **params})


def test_nearby_finds_an_incident_100_m_away_but_not_1_km_nor_an_old_closed_one(
    world: World,
) -> None:
    lat, lon = 22.775, 100.951
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        old = advance(world, new_incident(world, lat=lat + 50 * LAT_M, lon=lon), "cancelled")
        # Received as long ago but still being handled: shown.
        old_open = advance(world, new_incident(world, lat=lat - 200 * LAT_M, lon=lon), "dispatched")
    near = new_incident(world, lat=lat + 100 * LAT_M, lon=lon, caller_phone="13800000000")
    far = new_incident(world, lat=lat + 1000 * LAT_M, lon=lon)
    # Closed a moment ago, 30 m away: shown (the same event may have been handled already), after
    # the open one.
    recent = advance(world, new_incident(world, lat=lat - 30 * LAT_M, lon=lon), "cancelled")

    response = _nearby(world, lat, lon)
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [r["id"] for r in rows] == [near.pk, old_open.pk, recent.pk]
    assert {old.pk, far.pk}.isdisjoint(r["id"] for r in rows)
    assert [r["open"] for r in rows] == [True, True, False]
    assert [r["distance_m"] for r in rows] == [
        pytest.approx(100, abs=2),
        pytest.approx(200, abs=2),
        pytest.approx(30, abs=2),
    ]
    assert rows[0]["caller_phone"] == "138****0000"
    assert AccessLog.objects.count() == 0


def test_nearby_takes_a_radius_and_a_window(world: World) -> None:
    lat, lon = 22.775, 100.951
    with time_machine.travel(timezone.now() - timedelta(minutes=20)):
        closed = advance(world, new_incident(world, lat=lat, lon=lon + 0.001), "cancelled")
    far = new_incident(world, lat=lat + 1000 * LAT_M, lon=lon)
    wide = [r["id"] for r in _nearby(world, lat, lon, radius_m=1500).json()]
    assert wide == [far.pk, closed.pk]
    short = [r["id"] for r in _nearby(world, lat, lon, radius_m=1500, minutes=10).json()]
    assert short == [far.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 22.775},
        {"lon": 100.951},
        {"lat": 91, "lon": 100.951},
        {"lat": "nan", "lon": 100.951},
        {"lat": 22.775, "lon": "inf"},
        {"lat": 22.775, "lon": 100.951, "radius_m": 0},
        {"lat": 22.775, "lon": 100.951, "radius_m": 50_000},
        {"lat": 22.775, "lon": 100.951, "minutes": -5},
    ],
)
def test_nearby_refuses_bad_parameters_with_400(world: World, params: dict[str, Any]) -> None:
    response = api(world.dispatcher).get("/api/incidents/nearby/", params)
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["officer", "station_user", "hr"])
def test_only_the_command_centre_checks_nearby_and_history(world: World, who: str) -> None:
    client = api(getattr(world, who))
    assert client.get("/api/incidents/nearby/", {"lat": 22.775, "lon": 100.951}).status_code == 403
    history = client.get("/api/incidents/caller-history/", {"phone": "13800000000"})
    assert history.status_code == 403
    point = client.get("/api/incidents/recommendations/", {"lat": 22.775, "lon": 100.951})
    assert point.status_code == 403


def test_caller_history_lists_the_callers_calls_and_incidents_of_the_last_90_days(
    world: World, ring: Ring
) -> None:
    phone = "13911112222"
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=100)):
        too_old = new_incident(world, caller_phone=phone)
    with time_machine.travel(now - timedelta(days=10)):
        earlier = advance(world, new_incident(world, caller_phone=phone), "cancelled")
    with time_machine.travel(now - timedelta(days=2)):
        prank = ring(caller_phone=phone)
        assert (
            api(world.dispatcher)
            .post(f"/api/calls/{prank['id']}/close/", {"reason": "prank"})
            .status_code
            == 200
        )
    ring(caller_phone="13600001111")  # someone else
    today = ring(caller_phone=phone)
    incident_id = _take(world.dispatcher, today["id"]).json()["id"]

    response = api(world.dispatcher).get("/api/incidents/caller-history/", {"phone": phone})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(c["id"], c["status"], c["incident"]) for c in body["calls"]] == [
        (today["id"], "incident", incident_id),
        (prank["id"], "closed", None),
    ]
    assert body["calls"][1]["close_reason"] == "prank"
    assert [i["id"] for i in body["incidents"]] == [incident_id, earlier.pk]
    assert too_old.pk not in {i["id"] for i in body["incidents"]}
    assert set(body["incidents"][1]) >= {"number", "category", "status", "address", "received_at"}

    recent = api(world.dispatcher).get(
        "/api/incidents/caller-history/", {"phone": phone, "days": 5}
    )
    assert [i["id"] for i in recent.json()["incidents"]] == [incident_id]


@pytest.mark.parametrize(
    "params", [{}, {"phone": ""}, {"phone": "abc"}, {"phone": "138", "days": 0}]
)
def test_caller_history_refuses_bad_parameters_with_400(
    world: World, params: dict[str, Any]
) -> None:
    response = api(world.dispatcher).get("/api/incidents/caller-history/", params)
    assert response.status_code == 400


def test_units_are_ranked_for_a_point_before_the_incident_exists(world: World) -> None:
    advance(world, new_incident(world), "dispatched")  # U0 is busy
    response = api(world.dispatcher).get(
        "/api/incidents/recommendations/", {"lat": 22.775, "lon": 100.951}
    )
    assert response.status_code == 200, response.content
    ranked = response.json()
    assert [r["callsign"] for r in ranked] == ["U1", "U2", "U3"]
    assert all(not math.isnan(r["eta_s"]) for r in ranked)
    assert ranked[0]["eta_s"] < ranked[1]["eta_s"]
    bad = api(world.dispatcher).get("/api/incidents/recommendations/", {"lat": "x", "lon": 1})
    assert bad.status_code == 400
