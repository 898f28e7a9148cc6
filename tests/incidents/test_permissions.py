"""Who may do what, per role (403 for a wrong role, 401 without credentials)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from apps.incidents.models import Event, Incident
from tests.support.api import api
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db

ROLES = ["commander", "dispatcher", "hr", "officer", "auxiliary", "other_crew", "station_user"]


def _user(world: World, role: str) -> User:
    user: User = getattr(world, role)
    return user


INTAKE = {
    "category": "other",
    "priority": 3,
    "location": {"lat": 22.775, "lon": 100.951},
    "address": "某路",
}

# operation → (the state the incident is put in, path, body, roles allowed)
OPERATIONS: dict[str, tuple[str, str, dict[str, Any], set[str]]] = {
    "dispatch": ("received", "dispatch", {"unit": "U1"}, {"commander", "dispatcher"}),
    "acknowledge": (
        "dispatched",
        "acknowledge",
        {},
        {"commander", "dispatcher", "officer", "auxiliary"},
    ),
    "en-route": (
        "acknowledged",
        "en-route",
        {},
        {"commander", "dispatcher", "officer", "auxiliary"},
    ),
    "arrive": ("en_route", "arrive", {}, {"commander", "dispatcher", "officer", "auxiliary"}),
    "resolve": (
        "on_scene",
        "resolve",
        {"summary": "ok"},
        {"commander", "dispatcher", "officer", "auxiliary"},
    ),
    "transfer": (
        "on_scene",
        "transfer",
        {"reason": "r"},
        {"commander", "dispatcher", "officer", "auxiliary"},
    ),
    "receive-transfer": ("transfer_pending", "receive-transfer", {}, {"station_user"}),
    "cancel": ("dispatched", "cancel", {"reason": "r"}, {"commander", "dispatcher"}),
    "unassign": ("dispatched", "unassign", {"reason": "r"}, {"commander", "dispatcher"}),
}

CASES = [(op, role) for op in OPERATIONS for role in ROLES]


@pytest.mark.parametrize(("op", "role"), CASES, ids=[f"{o}-by-{r}" for o, r in CASES])
def test_transition_permissions_per_role(world: World, op: str, role: str) -> None:
    state, path, body, allowed = OPERATIONS[op]
    incident = advance(world, new_incident(world), state)
    if body.get("unit") == "U1":
        body = {"unit": world.city.units[1].pk}
    before = Event.objects.count()
    response = api(_user(world, role)).post(
        f"/api/incidents/{incident.pk}/{path}/", body, format="json"
    )
    if role in allowed:
        assert response.status_code == 200, response.content
    else:
        # Outside one's scope the incident does not exist (as on GET); inside it, 403.
        hidden = api(_user(world, role)).get(f"/api/incidents/{incident.pk}/").status_code == 404
        assert response.status_code == (404 if hidden else 403), response.content
        assert Event.objects.count() == before
        assert Incident.objects.get(pk=incident.pk).status == state


@pytest.mark.parametrize("role", ROLES)
def test_intake_is_for_the_command_centre(world: World, role: str) -> None:
    response = api(_user(world, role)).post("/api/incidents/", INTAKE, format="json")
    expected = 201 if role in {"commander", "dispatcher"} else 403
    assert response.status_code == expected
    assert Incident.objects.count() == (1 if expected == 201 else 0)


def test_reading_is_scoped_by_role(world: World) -> None:
    west = advance(world, new_incident(world), "dispatched")  # U0, west station
    east = new_incident(world, lat=22.795, lon=101.015)  # east station, no unit
    seen = {}
    for role in ROLES:
        response = api(_user(world, role)).get("/api/incidents/")
        seen[role] = (
            response.status_code,
            sorted(i["id"] for i in response.json()["results"])
            if response.status_code == 200
            else None,
        )
    both = sorted([west.pk, east.pk])
    assert seen == {
        "commander": (200, both),
        "dispatcher": (200, both),
        "hr": (403, None),
        "officer": (200, [west.pk]),
        "auxiliary": (200, [west.pk]),
        "other_crew": (200, []),
        "station_user": (200, [west.pk]),
    }
    # Outside one's scope an incident does not exist.
    assert api(world.other_crew).get(f"/api/incidents/{west.pk}/").status_code == 404
    assert api(world.east_station_user).get(f"/api/incidents/{east.pk}/").status_code == 200
    assert api(world.hr).get(f"/api/incidents/{east.pk}/").status_code == 403


def test_anonymous_gets_401_everywhere(world: World) -> None:
    incident = new_incident(world)
    client = api()
    assert client.get("/api/incidents/").status_code == 401
    assert client.post("/api/incidents/", INTAKE, format="json").status_code == 401
    assert client.get(f"/api/incidents/{incident.pk}/").status_code == 401
    assert client.post(f"/api/incidents/{incident.pk}/cancel/", {"reason": "x"}).status_code == 401
    assert client.get("/api/units/").status_code == 401
    assert client.post(f"/api/units/{world.unit.pk}/position/", {}).status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_unit_board_readers(world: World, role: str) -> None:
    response = api(_user(world, role)).get("/api/units/")
    assert response.status_code == (403 if role == "hr" else 200)


def test_crew_of_another_unit_cannot_act_on_the_incident(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    response = api(world.other_crew).post(f"/api/incidents/{incident.pk}/acknowledge/")
    assert response.status_code == 404
    assert Incident.objects.get(pk=incident.pk).status == "dispatched"


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_another_stations_incident_is_404_for_every_transition(world: World, op: str) -> None:
    """A station user could not read a west incident (404) but got 409 with its current status
    by POSTing a transition from the wrong state: the existence and state leaked."""
    state, path, body, _allowed = OPERATIONS[op]
    if body.get("unit") == "U1":
        body = {"unit": world.city.units[1].pk}
    # One in the state the transition starts from, others in states it does not (409 before).
    # (Closed first: every step goes through unit U0.)
    closed = advance(world, new_incident(world), "resolved_on_scene")
    incidents = [advance(world, new_incident(world), state), new_incident(world), closed]
    east = api(world.east_station_user)
    before = Event.objects.count()
    for incident in incidents:
        assert east.get(f"/api/incidents/{incident.pk}/").status_code == 404
        status = incident.status
        response = east.post(f"/api/incidents/{incident.pk}/{path}/", body, format="json")
        assert response.status_code == 404, response.content
        assert "current_status" not in response.json()
        assert Incident.objects.get(pk=incident.pk).status == status
    assert Event.objects.count() == before


def test_a_crew_member_whose_assignment_ended_is_no_longer_crew(world: World) -> None:
    from django.utils import timezone

    incident = advance(world, new_incident(world), "dispatched")
    person = world.auxiliary.person  # type: ignore[attr-defined]
    person.assignments.update(valid_to=timezone.now() - timezone.timedelta(minutes=1))
    response = api(world.auxiliary).post(f"/api/incidents/{incident.pk}/acknowledge/")
    # No longer crew: the unit's incident is out of their scope (404, as on GET).
    assert response.status_code == 404


def test_a_wrong_role_gets_403_even_with_a_bad_body(world: World) -> None:
    response = api(world.hr).post("/api/incidents/", {"category": "arson"}, format="json")
    assert response.status_code == 403
    response = api(world.station_user).post(
        "/api/incidents/", "{bad json", content_type="application/json"
    )
    assert response.status_code == 403
    # A crew member may raise an incident on patrol, not take a call.
    response = api(world.auxiliary).post("/api/incidents/", {"category": "arson"}, format="json")
    assert response.status_code == 403
