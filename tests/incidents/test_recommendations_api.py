"""GET /api/incidents/{id}/recommendations/: the free units ranked for an open incident."""

from __future__ import annotations

from apps.incidents import services
from tests.support.api import api
from tests.support.factories import World, new_incident


def test_the_ranking_lists_free_units_nearest_first(world: World) -> None:
    incident = new_incident(world, lat=22.78, lon=101.009)  # next to unit U3's staging point
    busy = new_incident(world)
    services.incident_dispatch(incident=busy, unit=world.city.units[2], actor=world.dispatcher)
    response = api(world.dispatcher).get(f"/api/incidents/{incident.pk}/recommendations/")
    assert response.status_code == 200
    callsigns = [r["callsign"] for r in response.json()]
    assert callsigns == ["U3", "U1", "U0"]  # U2 is busy
    first = response.json()[0]
    assert first["position_source"] == "staging_point" and first["eta_s"] < 60


def test_only_the_command_centre_sees_the_ranking(world: World) -> None:
    incident = new_incident(world)
    for user in (world.auxiliary, world.hr, world.station_user):
        response = api(user).get(f"/api/incidents/{incident.pk}/recommendations/")
        assert response.status_code == 403
    assert api(None).get(f"/api/incidents/{incident.pk}/recommendations/").status_code == 401
    assert api(world.dispatcher).get("/api/incidents/999999/recommendations/").status_code == 404
