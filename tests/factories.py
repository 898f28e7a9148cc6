"""Factories for tests. Build reference data here; build states through the real services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import factory
from django.contrib.auth.models import Group, User

from apps.common.geo import rectangle
from apps.common.roles import Role
from apps.personnel.models import Assignment, Person, PersonKind, TeamRole
from apps.units.models import GridCell, StagingPoint, Station, Unit


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
    """A login account posted to the unit's staging point (open-ended assignment)."""
    from django.utils import timezone

    user = UserFactory(roles=[role], **kwargs)
    person = PersonFactory(
        user=user,
        kind=PersonKind.OFFICER if role == Role.UNIT_OFFICER else PersonKind.AUXILIARY,
    )
    Assignment.objects.create(
        person=person,
        staging_point=unit.staging_point,
        shift=None if role == Role.UNIT_OFFICER else shift,
        team_role=TeamRole.RESPONSIBLE_OFFICER if role == Role.UNIT_OFFICER else TeamRole.MEMBER,
        valid_from=timezone.now() - timezone.timedelta(days=30),
    )
    return user
