"""The incident admin: access, list, incident page, transitions through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from apps.incidents.models import Event, Incident
from tests.support.factories import UserFactory, World, advance, new_incident

pytestmark = pytest.mark.django_db


def _client(*roles: Role, superuser: bool = False) -> Client:
    user = UserFactory(roles=list(roles), is_staff=True, is_superuser=superuser)
    client = Client()
    client.force_login(user)
    return client


def test_command_centre_sees_the_list_with_filters_and_search(world: World) -> None:
    incident = new_incident(world, caller_phone="13912345678")
    client = _client(Role.DISPATCHER)
    url = reverse("admin:incidents_incident_changelist")
    page = client.get(url)
    assert page.status_code == 200
    assert incident.number in page.content.decode()
    # Every staging point is offered as a filter, even with incidents in only one of them.
    for point in world.city.points:
        assert f"grid_cell__staging_point__id__exact={point.pk}" in page.content.decode()
    for query in (
        {"q": "13912345678"},
        {"q": incident.number},
        {"status__exact": "received"},
        {"category__exact": "dispute"},
        {"station__id__exact": str(world.city.stations[0].pk)},
        {"grid_cell__staging_point__id__exact": str(world.city.points[0].pk)},
    ):
        response = client.get(url, query)
        assert response.status_code == 200, query
        assert incident.number in response.content.decode(), query
    assert incident.number not in client.get(url, {"status__exact": "cancelled"}).content.decode()


@pytest.mark.parametrize("role", [Role.HR, Role.STATION, Role.UNIT_OFFICER])
def test_other_roles_have_no_incident_admin(world: World, role: Role) -> None:
    incident = new_incident(world)
    client = _client(role)
    assert client.get(reverse("admin:incidents_incident_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).status_code
        == 403
    )
    url = reverse("admin:incidents_incident_transition", args=[incident.pk, "cancel"])
    assert client.post(url, {"reason": "x"}).status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == "received"


def test_incident_page_shows_map_timeline_and_the_allowed_transitions(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    page = _client(Role.COMMANDER).get(
        reverse("admin:incidents_incident_change", args=[incident.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert f"incident_map_{incident.pk}" in html and "L.marker" in html
    assert "22.775" in html
    # The timeline inline, read-only (no inputs for events).
    assert html.count("dispatched") >= 1 and 'name="events-0-kind"' not in html
    for allowed in ("resolve", "transfer", "cancel"):
        assert f"/transition/{allowed}/" in html
    assert "/transition/dispatch/" not in html
    assert 'name="_save"' not in html


def test_dispatch_through_the_admin_form_uses_the_service(world: World) -> None:
    incident = new_incident(world)
    client = _client(Role.DISPATCHER)
    url = reverse("admin:incidents_incident_transition", args=[incident.pk, "dispatch"])
    form = client.get(url)
    assert form.status_code == 200 and "U0" in form.content.decode()  # the ranking is shown
    response = client.post(url, {"unit": world.unit.pk})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "dispatched" and incident.unit == world.unit
    assert Event.objects.filter(incident=incident, kind="dispatched", stream="incident").exists()


def test_an_illegal_transition_in_the_admin_is_reported_and_writes_nothing(world: World) -> None:
    incident = new_incident(world)
    before = Event.objects.count()
    client = _client(Role.DISPATCHER)
    url = reverse("admin:incidents_incident_transition", args=[incident.pk, "arrive"])
    response = client.post(url, {}, follow=True)
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert Event.objects.count() == before


def test_cancel_needs_a_reason_in_the_admin(world: World) -> None:
    incident = new_incident(world)
    client = _client(Role.DISPATCHER)
    url = reverse("admin:incidents_incident_transition", args=[incident.pk, "cancel"])
    assert client.post(url, {"reason": ""}).status_code == 200  # the form again, with errors
    assert Incident.objects.get(pk=incident.pk).status == "received"
    assert client.post(url, {"reason": "重复报警"}).status_code == 302
    assert Incident.objects.get(pk=incident.pk).status == "cancelled"


def test_changelist_actions_run_the_crew_steps_on_behalf(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    client = _client(Role.COMMANDER)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "action_acknowledge", "_selected_action": [incident.pk]},
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_events_are_read_only_even_for_a_superuser(world: World) -> None:
    advance(world, new_incident(world), "dispatched")
    event = Event.objects.first()
    assert event is not None
    client = _client(superuser=True)
    assert client.get(reverse("admin:incidents_event_changelist")).status_code == 200
    page = client.get(reverse("admin:incidents_event_change", args=[event.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:incidents_event_add")).status_code == 403
    assert client.post(reverse("admin:incidents_event_delete", args=[event.pk])).status_code == 403
    assert (
        client.post(
            reverse("admin:incidents_event_change", args=[event.pk]), {"reason": "edited"}
        ).status_code
        == 403
    )
    assert Event.objects.get(pk=event.pk).reason == event.reason
    assert client.get(reverse("admin:incidents_incident_add")).status_code == 403
