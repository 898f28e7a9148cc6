from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Incident
from apps.units.models import StationDuty, Unit
from tests.factories import SmallCity, UserFactory, crew_member, small_city


@dataclass
class World:
    city: SmallCity
    commander: User
    dispatcher: User
    hr: User
    officer: User  # unit_officer of unit 0
    auxiliary: User  # unit_auxiliary of unit 0
    other_crew: User  # unit_auxiliary of unit 3
    station_user: User  # station role, duty at the west station (s0)
    east_station_user: User

    @property
    def unit(self) -> Unit:
        return self.city.units[0]


@pytest.fixture
def world(db: Any) -> World:
    city = small_city()
    west_user = UserFactory(username="west", roles=[Role.STATION])
    east_user = UserFactory(username="east", roles=[Role.STATION])
    StationDuty.objects.create(user=west_user, station=city.stations[0])
    StationDuty.objects.create(user=east_user, station=city.stations[1])
    return World(
        city=city,
        commander=UserFactory(username="commander", roles=[Role.COMMANDER]),
        dispatcher=UserFactory(username="dispatcher", roles=[Role.DISPATCHER]),
        hr=UserFactory(username="hr", roles=[Role.HR]),
        officer=crew_member(city.units[0], role=Role.UNIT_OFFICER, username="officer"),
        auxiliary=crew_member(city.units[0], username="aux"),
        other_crew=crew_member(city.units[3], username="aux3"),
        station_user=west_user,
        east_station_user=east_user,
    )


def new_incident(world: World, *, lat: float = 22.775, lon: float = 100.951, **kw: Any) -> Incident:
    """An incident in the west station's jurisdiction, near unit U0's staging point."""
    fields: dict[str, Any] = {
        "category": "dispute",
        "priority": 2,
        "address": "思茅区振兴大道1号",
        "description": "邻里纠纷",
        "caller_name": "张三",
        "caller_phone": "13800000000",
    }
    fields.update(kw)
    return services.incident_create(actor=world.dispatcher, lat=lat, lon=lon, **fields)


def advance(world: World, incident: Incident, to: str) -> Incident:
    """Drive an incident to a state through the real services (dispatched to unit U0)."""
    steps = [
        (
            "dispatched",
            lambda i: services.incident_dispatch(
                incident=i, unit=world.unit, actor=world.dispatcher
            ),
        ),
        (
            "acknowledged",
            lambda i: services.incident_acknowledge(incident=i, actor=world.auxiliary),
        ),
        ("en_route", lambda i: services.incident_en_route(incident=i, actor=world.auxiliary)),
        ("on_scene", lambda i: services.incident_arrive(incident=i, actor=world.auxiliary)),
    ]
    extra = {
        "resolved_on_scene": lambda i: services.incident_resolve(
            incident=i, summary="调解完毕", actor=world.officer
        ),
        "transfer_pending": lambda i: services.incident_transfer(
            incident=i, reason="需立案侦查", actor=world.officer
        ),
        "transfer_received": lambda i: services.incident_receive_transfer(
            incident=services.incident_transfer(
                incident=i, reason="需立案侦查", actor=world.officer
            ),
            actor=world.station_user,
        ),
        "cancelled": lambda i: services.incident_cancel(
            incident=i, reason="重复报警", actor=world.dispatcher
        ),
    }
    if to == "received":
        return incident
    if to == "cancelled":
        return extra[to](incident)
    for name, step in steps:
        incident = step(incident)
        if name == to:
            return incident
    return extra[to](incident)


def api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
