"""Factories for tests. Build reference data here; build states through the real services.

- model factories and `small_city()`, the two-station city most tests stand in;
- `crew_member()`, a login posted to a unit;
- `World` (`new_world()`, the `world` fixture of tests/conftest.py), `new_incident()` and
  `advance()`, which drive an incident through the real lifecycle services;
- `at()` and `incident_row()`: finished incidents written as rows with their timestamps, for the
  statistics (as the importer writes history).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from apps.common.geo import rectangle
from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Category, Incident, IncidentStatus
from apps.personnel.models import Assignment, Person, PersonKind, TeamRole
from apps.units.models import GridCell, StagingPoint, Station, StationDuty, Unit, UnitKind

# The password of every account of the demo city as tests/foundation/conftest.py loads it.
DEMO_PASSWORD = "demo-test-pw"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[Role] | None, **kwargs: Any) -> None:
        for role in extracted or []:
            group, _ = Group.objects.get_or_create(name=str(role))
            self.groups.add(group)


def _square(lat: float, lon: float, half: float = 0.02) -> dict[str, Any]:
    return rectangle(lat - half, lon - half, lat + half, lon + half)


class StationFactory(factory.django.DjangoModelFactory[Station]):
    class Meta:
        model = Station

    name = factory.Sequence(lambda n: f"测试派出所{n}")
    code = factory.Sequence(lambda n: f"st{n}")
    jurisdiction = factory.LazyFunction(lambda: _square(22.78, 100.97))

    @factory.lazy_attribute
    def min_lat(self) -> float:
        return min(p[1] for p in self.jurisdiction["coordinates"][0])

    @factory.lazy_attribute
    def max_lat(self) -> float:
        return max(p[1] for p in self.jurisdiction["coordinates"][0])

    @factory.lazy_attribute
    def min_lon(self) -> float:
        return min(p[0] for p in self.jurisdiction["coordinates"][0])

    @factory.lazy_attribute
    def max_lon(self) -> float:
        return max(p[0] for p in self.jurisdiction["coordinates"][0])


class StagingPointFactory(factory.django.DjangoModelFactory[StagingPoint]):
    class Meta:
        model = StagingPoint

    name = factory.Sequence(lambda n: f"屯警点{n}")
    code = factory.Sequence(lambda n: f"sp{n}")
    lat = 22.78
    lon = 100.97
    station = factory.SubFactory(StationFactory)


class GridCellFactory(factory.django.DjangoModelFactory[GridCell]):
    class Meta:
        model = GridCell

    code = factory.Sequence(lambda n: f"G{n:03d}")
    row = factory.Sequence(lambda n: n)
    col = 0
    staging_point = factory.SubFactory(StagingPointFactory)
    min_lat = 22.77
    min_lon = 100.96
    max_lat = 22.79
    max_lon = 100.98


class UnitFactory(factory.django.DjangoModelFactory[Unit]):
    class Meta:
        model = Unit

    callsign = factory.Sequence(lambda n: f"巡{n:02d}")
    plate = factory.Sequence(lambda n: f"云J·{n:05d}警")
    staging_point = factory.SubFactory(StagingPointFactory)


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person

    kind = PersonKind.AUXILIARY
    name = factory.Sequence(lambda n: f"辅警{n}")
    staff_number = factory.Sequence(lambda n: f"F{n:05d}")


@dataclass
class SmallCity:
    """Two stations side by side (west/east), four staging points, a 2×4 grid, four units."""

    stations: list[Station] = field(default_factory=list)
    points: list[StagingPoint] = field(default_factory=list)
    cells: list[GridCell] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)


def small_city() -> SmallCity:
    """A city spanning 22.76–22.80 N and 100.94–101.02 E.

    West station: lon < 100.98, east station: lon >= 100.98. Staging points at 100.95, 100.97,
    100.99, 101.01 (lat 22.78); one unit each; cells are 0.02° × 0.02° (row 0 south, row 1 north).
    """
    city = SmallCity()
    west = rectangle(22.76, 100.94, 22.80, 100.98)
    east = rectangle(22.76, 100.98, 22.80, 101.02)
    for i, poly in enumerate((west, east)):
        city.stations.append(
            StationFactory(name=f"{'西东'[i]}区派出所", code=f"s{i}", jurisdiction=poly)
        )
    for i, lon in enumerate((100.95, 100.97, 100.99, 101.01)):
        sp = StagingPointFactory(
            name=f"点{i}", code=f"p{i}", lat=22.78, lon=lon, station=city.stations[i // 2]
        )
        city.points.append(sp)
        city.units.append(UnitFactory(callsign=f"U{i}", staging_point=sp))
    for row in range(2):
        for col in range(4):
            min_lat = 22.76 + 0.02 * row
            min_lon = 100.94 + 0.02 * col
            city.cells.append(
                GridCellFactory(
                    code=f"R{row}C{col}",
                    row=row,
                    col=col,
                    staging_point=city.points[col],
                    min_lat=min_lat,
                    min_lon=min_lon,
                    max_lat=min_lat + 0.02,
                    max_lon=min_lon + 0.02,
                    priority_zone=(row == 0 and col == 0),
                )
            )
    return city


def crew_member(
    unit: Unit, *, role: Role = Role.UNIT_AUXILIARY, shift: int | None = 1, **kwargs: Any
) -> User:
    """A login account posted to the unit's staging point (open-ended assignment); to the unit
    itself when it is an elite squad group."""
    user = UserFactory(roles=[role], **kwargs)
    person = PersonFactory(
        user=user,
        kind=PersonKind.OFFICER if role == Role.UNIT_OFFICER else PersonKind.AUXILIARY,
    )
    squad = unit.kind == UnitKind.SQUAD
    Assignment.objects.create(
        person=person,
        unit=unit if squad else None,
        elite_squad=squad,
        staging_point=unit.staging_point,
        shift=None if role == Role.UNIT_OFFICER else shift,
        team_role=TeamRole.RESPONSIBLE_OFFICER if role == Role.UNIT_OFFICER else TeamRole.MEMBER,
        valid_from=timezone.now() - timezone.timedelta(days=30),
    )
    return user


# --- a city with its people, and incidents through the real services ------------------------


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
    telephony: User  # the telephony link's service account

    @property
    def unit(self) -> Unit:
        return self.city.units[0]


def new_world() -> World:
    """The small city with one account per role; the station users on duty at s0 and s1."""
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
        telephony=UserFactory(username="telephony", roles=[Role.TELEPHONY]),
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


# --- finished incidents as rows ----------------------------------------------------------------
# The statistics read history that arrives with its timestamps anyway (the importer writes it so),
# so their tests build finished incidents as rows rather than through the lifecycle services.

SH = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(day: int, hour: int, minute: int = 0, *, month: int = 3) -> datetime:
    """An Asia/Shanghai moment in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def incident_row(
    *,
    received_at: datetime,
    category: str = Category.DISPUTE,
    status: str = IncidentStatus.RESOLVED_ON_SCENE,
    cell: GridCell | None = None,
    unit: Unit | None = None,
    dispatch_s: float | None = None,
    ack_s: float | None = None,
    arrive_s: float | None = None,
    close_s: float | None = None,
    **extra: Any,
) -> Incident:
    """An incident whose timestamps are offsets: dispatch after receipt, ack and arrival after
    dispatch, close after arrival (or after receipt when it never arrived)."""
    dispatched = received_at + timedelta(seconds=dispatch_s) if dispatch_s is not None else None
    acked = dispatched + timedelta(seconds=ack_s) if dispatched and ack_s is not None else None
    arrived = (
        dispatched + timedelta(seconds=arrive_s) if dispatched and arrive_s is not None else None
    )
    closed = None
    if close_s is not None:
        closed = (arrived or received_at) + timedelta(seconds=close_s)
    if cell is not None:
        lat = (cell.min_lat + cell.max_lat) / 2
        lon = (cell.min_lon + cell.max_lon) / 2
        extra.setdefault("station", cell.staging_point.station)
    else:
        lat, lon = extra.pop("lat", 22.78), extra.pop("lon", 100.97)
    if unit is None and status not in (IncidentStatus.RECEIVED, IncidentStatus.CANCELLED):
        raise ValueError("a dispatched incident needs a unit")
    return Incident.objects.create(
        number=f"T{next(_numbers):08d}",
        category=category,
        priority=2,
        status=status,
        address="测试地址",
        lat=lat,
        lon=lon,
        grid_cell=cell,
        unit=unit,
        received_at=received_at,
        dispatched_at=dispatched,
        acknowledged_at=acked,
        arrived_at=arrived,
        en_route_at=acked,
        closed_at=closed,
        **extra,
    )
