"""The telephony link: `POST /api/calls/` (who may report, bad reports, retries), the ringing list
`GET /api/calls/`, and the `telephony` role being refused everything else."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from apps.calls.models import Call
from apps.common.models import Notice
from apps.incidents.models import Event, Incident
from apps.realtime.selectors import command_snapshot
from tests.calls.conftest import Ring
from tests.support.api import api
from tests.support.factories import UserFactory, World, new_incident
from tests.support.ws import connect

pytestmark = pytest.mark.django_db

URL = "/api/calls/"


def _report(user: User | None, body: Any, **kw: Any) -> Any:
    return api(user).post(URL, body, format="json", **kw)


def _good(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "caller_phone": "13912345678",
        "line": "110-1",
        "received_at": (timezone.now() - timedelta(seconds=20)).isoformat(),
        "location": {"lat": 22.775, "lon": 100.951, "accuracy_m": 35},
    }
    body.update(over)
    return body


def _written() -> tuple[int, int]:
    return Call.objects.count(), Notice.objects.filter(type="call.ringing").count()


# --- reporting a call -------------------------------------------------------------------------


def test_telephony_reports_a_ringing_call_and_the_command_centre_is_told(
    world: World, telephony: User
) -> None:
    body = _good()
    response = _report(telephony, body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(answer) == {
        "id",
        "caller_phone",
        "line",
        "received_at",
        "location",
        "status",
        "incident_id",
    }
    assert answer["caller_phone"] == "13912345678" and answer["line"] == "110-1"
    assert answer["location"] == {"lat": 22.775, "lon": 100.951, "accuracy_m": 35}
    assert answer["status"] == "ringing" and answer["incident_id"] is None
    assert parse_datetime(answer["received_at"]) == parse_datetime(body["received_at"])

    call = Call.objects.get(pk=answer["id"])
    assert call.reported_by == telephony and call.status == "ringing" and call.incident is None
    assert (call.lat, call.lon, call.accuracy_m) == (22.775, 100.951, 35)

    notice = Notice.objects.get(audience="command", type="call.ringing")
    assert notice.payload["call"]["id"] == call.pk
    # The command centre's consoles get the full number (they call back).
    assert notice.payload["call"]["caller_phone"] == "13912345678"
    assert json.loads(json.dumps(notice.payload)) == notice.payload
    # No unit's crew hears of a call nobody has taken.
    assert not Notice.objects.filter(type="call.ringing").exclude(audience="command").exists()


def test_the_ringing_call_is_pushed_to_the_command_group_after_commit(
    world: World, telephony: User, django_capture_on_commit_callbacks: Any
) -> None:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("command", channel)

    async def frames_until_ringing() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["type"] != "call.ringing":
            message = await asyncio.wait_for(layer.receive(channel), timeout=5)
            seen.append(message["frame"])
        return seen

    try:
        with django_capture_on_commit_callbacks(execute=False) as refused:
            old = timezone.now() - timedelta(seconds=settings.CALL_REPORT_MAX_AGE_S + 60)
            assert _report(telephony, _good(received_at=old.isoformat())).status_code == 422
        assert refused == []
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            answer = _report(telephony, _good()).json()
        assert callbacks
        frame = async_to_sync(frames_until_ringing)()[-1]
    finally:
        async_to_sync(layer.group_discard)("command", channel)
    notice = Notice.objects.get(type="call.ringing")
    assert frame == {"type": "call.ringing", "seq": notice.seq, "call": answer}


def test_a_call_without_line_or_location_is_accepted(world: World, telephony: User) -> None:
    body = {"received_at": timezone.now().isoformat(), "caller_phone": ""}
    response = _report(telephony, body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["line"], answer["location"], answer["caller_phone"]) == ("", None, "")


def test_a_null_location_and_a_null_accuracy_are_accepted(world: World, telephony: User) -> None:
    assert _report(telephony, _good(location=None)).json()["location"] is None
    located = _report(telephony, _good(location={"lat": 22.7, "lon": 100.9, "accuracy_m": None}))
    assert located.json()["location"] == {"lat": 22.7, "lon": 100.9, "accuracy_m": None}


def test_a_superuser_may_report_a_call_by_hand(world: World) -> None:
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert _report(admin, _good()).status_code == 201


@pytest.mark.parametrize(
    "who", ["commander", "dispatcher", "hr", "officer", "auxiliary", "station_user"]
)
def test_no_other_role_reports_calls(world: World, who: str) -> None:
    response = _report(getattr(world, who), _good())
    assert response.status_code == 403
    assert _written() == (0, 0)


def test_anonymous_cannot_report_calls(world: World) -> None:
    assert _report(None, _good()).status_code == 401
    assert _written() == (0, 0)


# --- bad reports --------------------------------------------------------------------------------

# A key of the good body to leave out.
MISSING = object()

BAD_REPORTS: list[tuple[str, dict[str, Any], str]] = [
    ("phone with letters", {"caller_phone": "call me"}, "caller_phone"),
    ("phone too long", {"caller_phone": "1" * 21}, "caller_phone"),
    ("phone not a string", {"caller_phone": 13912345678}, "caller_phone"),
    ("received_at missing", {"received_at": MISSING}, "received_at"),
    ("received_at null", {"received_at": None}, "received_at"),
    ("received_at not a time", {"received_at": "yesterday"}, "received_at"),
    ("line too long", {"line": "L" * 21}, "line"),
    ("latitude out of range", {"location": {"lat": 90.5, "lon": 100.9}}, "location"),
    ("longitude out of range", {"location": {"lat": 22.7, "lon": -181}}, "location"),
    ("latitude NaN as text", {"location": {"lat": "NaN", "lon": 100.9}}, "location"),
    ("latitude a string", {"location": {"lat": "22.7", "lon": 100.9}}, "location"),
    ("latitude a boolean", {"location": {"lat": True, "lon": 100.9}}, "location"),
    ("longitude missing", {"location": {"lat": 22.7}}, "location"),
    ("negative accuracy", {"location": {"lat": 22.7, "lon": 100.9, "accuracy_m": -1}}, "location"),
    ("location not an object", {"location": "22.7,100.9"}, "location"),
]


@pytest.mark.parametrize(("name", "change", "field"), BAD_REPORTS, ids=[b[0] for b in BAD_REPORTS])
def test_a_bad_report_is_400_per_field_and_writes_nothing(
    world: World, telephony: User, name: str, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in _good(**change).items() if v is not MISSING}
    response = _report(telephony, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _written() == (0, 0)


def _raw(location: str) -> str:
    """A report whose location is the JSON text given (literals no encoder writes)."""
    body = json.dumps({"received_at": timezone.now().isoformat(), "location": "LOCATION"})
    return body.replace('"LOCATION"', location)


@pytest.mark.parametrize(
    "location",
    [
        # Python's JSON reads an overflowing literal as infinity: the range check must refuse it.
        '{"lat": 1e999, "lon": 100.9}',
        '{"lat": 22.7, "lon": 100.9, "accuracy_m": 1e999}',
    ],
)
def test_an_infinite_coordinate_is_400_on_location(
    world: World, telephony: User, location: str
) -> None:
    response = api(telephony).post(URL, _raw(location), content_type="application/json")
    assert response.status_code == 400, response.content
    assert "location" in response.json()
    assert _written() == (0, 0)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_literal_is_refused_and_writes_nothing(
    world: World, telephony: User, literal: str
) -> None:
    body = _raw(f'{{"lat": {literal}, "lon": 100.9}}')
    response = api(telephony).post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert _written() == (0, 0)


def test_the_phone_error_is_in_the_language_of_the_request(world: World, telephony: User) -> None:
    # A message translated when the module was imported answered in the start-up language.
    messages = {}
    for language in ("en", "zh-hans"):
        response = _report(telephony, _good(caller_phone="call me"), HTTP_ACCEPT_LANGUAGE=language)
        messages[language] = response.json()["caller_phone"]
        with translation.override(language):
            assert messages[language] == [translation.gettext("Digits, spaces and + - ( ) only.")]
    assert messages["en"] != messages["zh-hans"]


@time_machine.travel("2026-03-02T02:00:00Z", tick=False)
def test_a_call_received_in_the_future_beyond_the_clock_skew_is_422(
    world: World, telephony: User
) -> None:
    ahead = timezone.now() + timedelta(seconds=settings.ACTION_CLOCK_SKEW_S + 1)
    response = _report(telephony, _good(received_at=ahead.isoformat()))
    assert response.status_code == 422
    assert list(response.json()["received_at"])
    assert _written() == (0, 0)


@time_machine.travel("2026-03-02T02:00:00Z", tick=False)
def test_a_call_slightly_ahead_of_the_server_clock_is_taken_as_now(
    world: World, telephony: User
) -> None:
    ahead = timezone.now() + timedelta(seconds=settings.ACTION_CLOCK_SKEW_S - 1)
    response = _report(telephony, _good(received_at=ahead.isoformat()))
    assert response.status_code == 201
    assert Call.objects.get().received_at == timezone.now()


@time_machine.travel("2026-03-02T02:00:00Z", tick=False)
def test_a_call_older_than_the_maximum_age_is_422_and_one_just_within_is_accepted(
    world: World, telephony: User
) -> None:
    oldest = timezone.now() - timedelta(seconds=settings.CALL_REPORT_MAX_AGE_S)
    too_old = oldest - timedelta(seconds=1)
    response = _report(telephony, _good(received_at=too_old.isoformat()))
    assert response.status_code == 422
    assert list(response.json()["received_at"])
    assert _written() == (0, 0)
    assert _report(telephony, _good(received_at=oldest.isoformat())).status_code == 201
    assert _written() == (1, 1)


# --- a gateway retrying after a lost answer ----------------------------------------------------


def test_a_retried_report_with_the_same_key_records_one_call(world: World, telephony: User) -> None:
    body = _good()
    first = _report(telephony, body, HTTP_IDEMPOTENCY_KEY="gw-call-0001")
    again = _report(telephony, body, HTTP_IDEMPOTENCY_KEY="gw-call-0001")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert _written() == (1, 1)


def test_reports_with_different_keys_are_different_calls(world: World, telephony: User) -> None:
    body = _good()
    a = _report(telephony, body, HTTP_IDEMPOTENCY_KEY="gw-call-0001").json()
    b = _report(telephony, body, HTTP_IDEMPOTENCY_KEY="gw-call-0002").json()
    assert a["id"] != b["id"]
    assert _written() == (2, 2)


def test_a_refused_report_is_replayed_as_refused(world: World, telephony: User) -> None:
    old = timezone.now() - timedelta(seconds=settings.CALL_REPORT_MAX_AGE_S + 60)
    body = _good(received_at=old.isoformat())
    first = _report(telephony, body, HTTP_IDEMPOTENCY_KEY="gw-call-0003")
    again = _report(telephony, body, HTTP_IDEMPOTENCY_KEY="gw-call-0003")
    assert first.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"
    assert _written() == (0, 0)


# --- the ringing list -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["commander", "dispatcher"])
def test_the_command_centre_lists_the_ringing_calls_oldest_first(
    world: World, ring: Ring, who: str
) -> None:
    middle = ring(ago_s=20)
    newest = ring(ago_s=10)
    oldest = ring(ago_s=30)
    taken = ring(ago_s=40)
    closed = ring(ago_s=50)
    # Ringing longer than the console offers calls: the caller has long hung up.
    stale = ring(ago_s=settings.CALL_RINGING_SHOW_S + 60)
    client = api(world.dispatcher)
    created = client.post(
        "/api/incidents/",
        {
            "category": "dispute",
            "priority": 2,
            "location": {"lat": 22.775, "lon": 100.951},
            "address": "思茅区振兴大道1号",
            "call": taken["id"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert (
        client.post(f"/api/calls/{closed['id']}/close/", {"reason": "hang_up"}).status_code == 200
    )

    response = api(getattr(world, who)).get(URL)
    assert response.status_code == 200
    rows = response.json()
    assert [r["id"] for r in rows] == [oldest["id"], middle["id"], newest["id"]]
    # The same call as reported (its time may come back in another UTC offset).
    assert {**rows[0], "received_at": None} == {**oldest, "received_at": None}
    assert parse_datetime(rows[0]["received_at"]) == parse_datetime(oldest["received_at"])
    assert stale["id"] not in {r["id"] for r in rows}


def test_the_ringing_list_makes_a_fixed_number_of_queries(
    world: World, ring: Ring, django_assert_max_num_queries: Any
) -> None:
    for i in range(5):
        ring(ago_s=10 + i)
    client = api(world.dispatcher)
    client.get(URL)  # warm the role cache of the user row
    with django_assert_max_num_queries(3):
        response = client.get(URL)
    assert len(response.json()) == 5


def test_the_command_snapshot_carries_the_ringing_calls(world: World, ring: Ring) -> None:
    first = ring(ago_s=20)
    second = ring(ago_s=10)
    closed = api(world.dispatcher).post(f"/api/calls/{first['id']}/close/", {"reason": "prank"})
    assert closed.status_code == 200
    snapshot = command_snapshot()
    assert [c["id"] for c in snapshot["calls"]] == [second["id"]]
    assert snapshot["calls"][0]["caller_phone"] == "13912345678"
    assert json.loads(json.dumps(snapshot["calls"])) == snapshot["calls"]


# --- the telephony account can do nothing else ----------------------------------------------

INTAKE = {
    "category": "dispute",
    "priority": 2,
    "location": {"lat": 22.775, "lon": 100.951},
    "address": "思茅区振兴大道1号",
}


def _elsewhere(world: World, incident: Incident, call_id: int) -> list[tuple[str, str, Any]]:
    i = incident.pk
    return [
        ("GET", "/api/incidents/", None),
        ("POST", "/api/incidents/", INTAKE),
        ("POST", "/api/incidents/", {**INTAKE, "call": call_id}),
        ("GET", f"/api/incidents/{i}/", None),
        ("GET", f"/api/incidents/{i}/?caller=masked", None),
        ("GET", f"/api/incidents/{i}/recommendations/", None),
        ("POST", f"/api/incidents/{i}/dispatch/", {"unit": world.unit.pk}),
        ("POST", f"/api/incidents/{i}/cancel/", {"reason": "重复报警"}),
        ("POST", f"/api/incidents/{i}/calls/", {"call": call_id}),
        ("POST", f"/api/incidents/{i}/notes/", {"text": "续报"}),
        ("GET", "/api/incidents/nearby/?lat=22.775&lon=100.951", None),
        ("GET", "/api/incidents/caller-history/?phone=13912345678", None),
        ("GET", "/api/incidents/recommendations/?lat=22.775&lon=100.951", None),
        ("GET", "/api/calls/", None),
        ("POST", f"/api/calls/{call_id}/close/", {"reason": "prank"}),
        ("GET", "/api/units/", None),
        ("GET", "/api/units/health/", None),
        ("GET", "/api/map/layers/", None),
        ("GET", "/api/places/?q=x", None),
        ("GET", "/api/places/reverse/?lat=22.775&lon=100.951", None),
        ("GET", "/api/stats/summary/?start=2026-03-01&end=2026-03-02", None),
        ("GET", "/api/stats/street-presence/?start=2026-03-01&end=2026-03-02", None),
    ]


def test_the_telephony_account_is_refused_everything_but_reporting_calls(
    world: World, telephony: User, ring: Ring
) -> None:
    incident = new_incident(world)
    call_id = ring()["id"]
    before = (Incident.objects.count(), Event.objects.count(), Call.objects.count())
    client = api(telephony)
    answers = {}
    for method, path, body in _elsewhere(world, incident, call_id):
        response = client.get(path) if method == "GET" else client.post(path, body, format="json")
        answers[(method, path)] = response.status_code
    assert {k: v for k, v in answers.items() if v != 403} == {}
    assert (Incident.objects.count(), Event.objects.count(), Call.objects.count()) == before
    assert Call.objects.get(pk=call_id).status == "ringing"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/command/", "/ws/unit/"])
def test_the_telephony_account_cannot_open_a_websocket(world: World, path: str) -> None:
    telephony = UserFactory(username="telephony-ws", roles=["telephony"])

    async def attempt() -> tuple[bool, int | None]:
        comm, connected, code = await connect(path, user=telephony)
        await comm.disconnect()
        return connected, code

    assert async_to_sync(attempt)() == (False, 4403)
