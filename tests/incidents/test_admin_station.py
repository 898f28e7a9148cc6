"""A station's duty officer in the admin: the station's incidents, and the receipt of transfers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.incidents.models import Event, IncidentStatus
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db


def _station_client(world: World, east: bool = False) -> Client:
    user = world.east_station_user if east else world.station_user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def test_a_station_sees_only_its_incidents(world: World) -> None:
    west = new_incident(world)  # in the west station's jurisdiction
    east = new_incident(world, lat=22.78, lon=101.01)
    page = _station_client(world).get(reverse("admin:incidents_incident_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert west.number in html and east.number not in html
    other = _station_client(world).get(reverse("admin:incidents_incident_change", args=[east.pk]))
    assert other.status_code in (302, 404)


def test_a_station_confirms_receipt_of_a_transfer_in_the_admin(world: World) -> None:
    incident = advance(world, new_incident(world, caller_phone="13912345678"), "transfer_pending")
    client = _station_client(world)
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    html = page.content.decode()
    assert "13912345678" in html  # transferred to this station: the full caller record
    receive = reverse("admin:incidents_incident_transition", args=[incident.pk, "receive_transfer"])
    assert receive in html
    assert "/transition/dispatch/" not in html and "/transition/cancel/" not in html
    assert client.post(receive).status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRANSFER_RECEIVED
    assert incident.transfer_received_by == world.station_user
    assert Event.objects.filter(incident=incident, kind="transfer_received").exists()


def test_a_station_cannot_dispatch_or_cancel_from_the_admin(world: World) -> None:
    incident = new_incident(world, caller_phone="13912345678")
    client = _station_client(world)
    for action in ("dispatch", "cancel", "unassign"):
        url = reverse("admin:incidents_incident_transition", args=[incident.pk, action])
        assert client.post(url, {"reason": "x"}).status_code == 403
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    # Not transferred to it: the caller's phone is masked.
    assert "13912345678" not in page.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RECEIVED


def test_the_command_centre_does_not_sign_a_stations_receipt(world: World) -> None:
    incident = advance(world, new_incident(world), "transfer_pending")
    client = Client()
    world.dispatcher.is_staff = True
    world.dispatcher.save(update_fields=["is_staff"])
    client.force_login(world.dispatcher)
    url = reverse("admin:incidents_incident_transition", args=[incident.pk, "receive_transfer"])
    assert client.post(url).status_code == 403


def test_a_station_cannot_recover_a_masked_number_by_searching_prefixes(world: World) -> None:
    incident = new_incident(world, caller_phone="13912345678")  # west: the station's own
    url = reverse("admin:incidents_incident_changelist")
    client = _station_client(world)
    assert incident.number in client.get(url).content.decode()
    # The number is masked for the station; a guessed prefix must not single the incident out.
    for guess in ("1391234", "13912345678"):
        html = client.get(url, {"q": guess}).content.decode()
        assert incident.number not in html, guess
    # The command centre, which sees numbers in full, still finds a caller by number.
    dispatcher = world.dispatcher
    dispatcher.is_staff = True
    dispatcher.save(update_fields=["is_staff"])
    command = Client()
    command.force_login(dispatcher)
    assert incident.number in command.get(url, {"q": "1391234"}).content.decode()
