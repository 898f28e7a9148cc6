"""Idempotency-Key: a replayed crew action is answered from the record, never applied twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connection
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from apps.common.idempotency import REPLAYED_HEADER, idempotent
from apps.common.models import IdempotencyRecord
from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Event, Incident
from tests.support.concurrency import race
from tests.support.factories import (
    UserFactory,
    World,
    advance,
    crew_member,
    new_incident,
    small_city,
)

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()


@pytest.fixture
def world(db: Any) -> World:
    city = small_city()
    return World(
        city=city,
        commander=UserFactory(roles=[Role.COMMANDER]),
        dispatcher=UserFactory(roles=[Role.DISPATCHER]),
        hr=UserFactory(roles=[Role.HR]),
        officer=crew_member(city.units[0], role=Role.UNIT_OFFICER),
        auxiliary=crew_member(city.units[0]),
        other_crew=crew_member(city.units[3]),
        station_user=UserFactory(roles=[Role.STATION]),
        east_station_user=UserFactory(roles=[Role.STATION]),
        telephony=UserFactory(roles=[Role.TELEPHONY]),
    )


@idempotent
class ArriveView(APIView):
    """A crew action view like the incident API's, on the real service."""

    def post(self, request: Request, pk: int) -> Response:
        incident = services.incident_arrive(
            incident=Incident.objects.get(pk=pk), actor=request.user
        )
        return Response({"id": incident.pk, "status": incident.status})


class FlakyView(APIView):
    calls = 0

    @idempotent
    def post(self, request: Request) -> Response:
        FlakyView.calls += 1
        if FlakyView.calls == 1:
            raise OperationalError("connection lost")
        return Response({"calls": FlakyView.calls}, status=201)


def arrive(world: World, incident: Incident, *, user: Any = None, key: str | None = "k-1") -> Any:
    path = f"/api/incidents/{incident.pk}/arrive/"
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    request = factory.post(path, {}, format="json", **headers)
    force_authenticate(request, user=user or world.auxiliary)
    response = ArriveView.as_view()(request, pk=incident.pk)
    response.render()
    return response


def arrivals(incident: Incident) -> int:
    return Event.objects.filter(incident=incident, stream="incident", to_state="on_scene").count()


def test_a_replay_gets_the_first_answer_and_the_action_is_applied_once(world: World) -> None:
    incident = advance(world, new_incident(world), "en_route")
    first = arrive(world, incident)
    again = arrive(world, incident)
    assert first.status_code == 200 and again.status_code == 200
    assert again.data == first.data == {"id": incident.pk, "status": "on_scene"}
    assert again[REPLAYED_HEADER] == "true"
    assert not first.has_header(REPLAYED_HEADER)
    assert arrivals(incident) == 1


def test_without_a_key_the_second_request_is_refused_as_usual(world: World) -> None:
    incident = advance(world, new_incident(world), "en_route")
    assert arrive(world, incident, key=None).status_code == 200
    second = arrive(world, incident, key=None)
    assert second.status_code == 409
    assert not IdempotencyRecord.objects.exists()


def test_a_refusal_is_stored_and_replayed_even_after_the_state_moved_on(world: World) -> None:
    incident = advance(world, new_incident(world), "acknowledged")
    refused = arrive(world, incident)
    assert refused.status_code == 409 and refused.data["code"] == "illegal_transition"
    services.incident_en_route(incident=incident, actor=world.auxiliary)
    replay = arrive(world, incident)
    assert replay.status_code == 409 and replay.data == refused.data
    incident.refresh_from_db()
    assert incident.status == "en_route"


def test_keys_belong_to_their_user(world: World) -> None:
    incident = advance(world, new_incident(world), "en_route")
    assert arrive(world, incident, user=world.auxiliary, key="same").status_code == 200
    other = arrive(world, incident, user=world.officer, key="same")
    assert other.status_code == 409  # ran for real: the unit is already on scene
    assert IdempotencyRecord.objects.filter(key="same").count() == 2


def test_a_key_reused_for_another_path_is_refused(world: World) -> None:
    one = advance(world, new_incident(world), "en_route")
    two = advance(world, new_incident(world, lat=22.776), "received")
    assert arrive(world, one, key="reused").status_code == 200
    response = arrive(world, two, key="reused")
    assert response.status_code == 422
    assert response.data["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", ["", "has space", "x" * 101, "ключ"])
def test_a_malformed_key_is_a_400_and_nothing_is_applied(world: World, key: str) -> None:
    incident = advance(world, new_incident(world), "en_route")
    response = arrive(world, incident, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.data
    incident.refresh_from_db()
    assert incident.status == "en_route"
    assert not IdempotencyRecord.objects.exists()


def test_a_server_error_is_not_stored_so_the_retry_runs(world: World) -> None:
    FlakyView.calls = 0
    view = FlakyView.as_view()

    def call() -> Any:
        request = factory.post("/flaky/", {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
        force_authenticate(request, user=world.auxiliary)
        return view(request)

    assert call().status_code == 503
    assert not IdempotencyRecord.objects.exists()
    retried = call()
    assert retried.status_code == 201 and retried.data == {"calls": 2}
    replayed = call()
    assert replayed.data == {"calls": 2} and FlakyView.calls == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_apply_once(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, there is no race to test")
    incident = advance(world, new_incident(world), "en_route")

    def worker(_: int) -> tuple[int, Any]:
        response = arrive(world, incident, key="race")
        return response.status_code, response.data

    answers = race(8, worker)
    assert len(answers) == 8
    assert {code for code, _ in answers} == {200}
    assert arrivals(incident) == 1


def test_the_incident_api_crew_actions_honour_the_key(world: World) -> None:
    incident = advance(world, new_incident(world), "acknowledged")
    client = APIClient()
    client.force_authenticate(world.auxiliary)
    for action, status in (("en-route", "en_route"), ("arrive", "on_scene")):
        url = f"/api/incidents/{incident.pk}/{action}/"
        first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=f"app-{action}")
        replay = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=f"app-{action}")
        assert first.status_code == replay.status_code == 200, replay.content
        assert replay.json() == first.json() and first.json()["status"] == status
        assert replay[REPLAYED_HEADER] == "true"
    url = f"/api/incidents/{incident.pk}/resolve/"
    body = {"summary": "调解完毕"}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="app-resolve")
    replay = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="app-resolve")
    assert first.status_code == replay.status_code == 200
    assert arrivals(incident) == 1
