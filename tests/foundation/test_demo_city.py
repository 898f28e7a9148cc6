"""The demo city: exactly the Simao model's numbers, tiled jurisdictions, idempotent loading."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

from apps.common.geo import haversine_m, polygon_bbox, polygon_contains
from apps.common.roles import Role
from apps.demo.city import (
    AREA_EAST,
    AREA_NORTH,
    AREA_SOUTH,
    AREA_WEST,
    ELITE_GROUP_MEMBERS,
    DemoSummary,
    demo_roster,
    id_check_digit,
    load_demo_city,
)
from apps.personnel.models import Assignment, Person, PersonKind, TeamRole
from apps.units.models import GridCell, StagingPoint, Station, StationDuty, Unit, UnitKind
from tests.support.factories import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

POINT_NAMES = {
    "珠市街",
    "民族村",
    "民航路",
    "万人体育馆",
    "建设巷",
    "中梁天宸",
    "大象环岛",
    "区人民医院",
}
STATION_NAMES = {"城北派出所", "城南派出所", "南屏派出所", "倚象派出所"}


def open_assignments() -> Any:
    return Assignment.objects.filter(valid_to__isnull=True)


def test_the_city_has_the_models_points_stations_and_units(demo_city: DemoSummary) -> None:
    assert set(StagingPoint.objects.values_list("name", flat=True)) == POINT_NAMES
    assert StagingPoint.objects.count() == 8
    assert set(Station.objects.values_list("name", flat=True)) == STATION_NAMES
    patrol = Unit.objects.filter(kind=UnitKind.PATROL)
    assert patrol.count() == 8
    # one patrol unit per staging point, each with a call sign and a plate
    assert Counter(patrol.values_list("staging_point__name", flat=True)) == {
        name: 1 for name in POINT_NAMES
    }
    # and the elite squad's 4 groups, each a unit with its vehicle
    squads = Unit.objects.filter(kind=UnitKind.SQUAD).order_by("callsign")
    assert [u.callsign for u in squads] == ["尖刀1组", "尖刀2组", "尖刀3组", "尖刀4组"]
    assert all(u.plate for u in Unit.objects.all())


def test_staging_points_are_approximate_positions_in_simaos_urban_area(
    demo_city: DemoSummary,
) -> None:
    for point in StagingPoint.objects.select_related("station"):
        assert point.approximate
        assert 22.74 <= point.lat <= 22.82 and 100.94 <= point.lon <= 101.01
        # each point belongs to the station whose jurisdiction contains it
        assert polygon_contains(point.station.jurisdiction, point.lat, point.lon)


def test_the_force_is_15_officers_and_224_auxiliaries(demo_city: DemoSummary) -> None:
    assert Person.objects.filter(kind=PersonKind.OFFICER).count() == 15
    assert Person.objects.filter(kind=PersonKind.AUXILIARY).count() == 224
    assert (demo_city.officers, demo_city.auxiliaries) == (15, 224)


def test_each_point_has_a_responsible_officer_and_18_auxiliaries_in_3_shifts_of_6(
    demo_city: DemoSummary,
) -> None:
    for point in StagingPoint.objects.all():
        posted = open_assignments().filter(staging_point=point).select_related("person")
        officers = [a for a in posted if a.person.kind == PersonKind.OFFICER]
        auxiliaries = [a for a in posted if a.person.kind == PersonKind.AUXILIARY]
        assert len(officers) == 1
        assert officers[0].team_role == TeamRole.RESPONSIBLE_OFFICER
        assert officers[0].shift is None
        assert len(auxiliaries) == 18
        assert Counter(a.shift for a in auxiliaries) == {1: 6, 2: 6, 3: 6}
        assert not any(a.elite_squad for a in auxiliaries)
        # one squad leader; one group leader per shift
        roles = Counter(a.team_role for a in auxiliaries)
        assert roles[TeamRole.SQUAD_LEADER] == 1
        assert roles[TeamRole.GROUP_LEADER] == 3


def test_45_auxiliaries_form_the_elite_squad_and_the_others_are_reserve(
    demo_city: DemoSummary,
) -> None:
    auxiliaries = open_assignments().filter(person__kind=PersonKind.AUXILIARY)
    elite = auxiliaries.filter(elite_squad=True)
    assert elite.count() == 45
    assert not elite.filter(staging_point__isnull=False).exists()
    reserve = auxiliaries.filter(elite_squad=False, staging_point__isnull=True)
    assert reserve.count() == 224 - 8 * 18 - 45
    # every auxiliary has exactly one current posting
    assert Counter(auxiliaries.values_list("person_id", flat=True)).most_common(1)[0][1] == 1
    assert auxiliaries.count() == 224


def test_the_seven_other_officers_lead_and_have_no_grid_posting(demo_city: DemoSummary) -> None:
    leaders = Person.objects.filter(kind=PersonKind.OFFICER, assignments__isnull=True)
    assert leaders.count() == 7
    # exactly one person heads the chain: the sub-bureau leader
    top = Person.objects.get(supervisor__isnull=True)
    assert top.kind == PersonKind.OFFICER


def chain_of(person: Person) -> list[Person]:
    chain = [person]
    while chain[-1].supervisor is not None:
        chain.append(chain[-1].supervisor)
        assert len(chain) < 20, "supervisor cycle"
    return chain


def current_role(person: Person) -> str | None:
    posting = person.assignments.filter(valid_to__isnull=True).first()
    return posting.team_role if posting else None


def test_the_supervisor_chain_runs_from_member_to_the_sub_bureau_leader(
    demo_city: DemoSummary,
) -> None:
    member = User.objects.get(username="auxiliary").person
    chain = chain_of(member)
    assert [current_role(p) for p in chain] == [
        TeamRole.MEMBER,
        TeamRole.GROUP_LEADER,
        TeamRole.SQUAD_LEADER,
        TeamRole.RESPONSIBLE_OFFICER,
        None,  # 特警大队 leader
        None,  # 分局 leader
    ]
    assert chain[-1].supervisor is None
    # Everyone reaches the same head, without cycles.
    head = chain[-1]
    people = {p.pk: p for p in Person.objects.all()}
    for person in people.values():
        seen = set()
        while person.supervisor_id is not None:
            assert person.pk not in seen
            seen.add(person.pk)
            person = people[person.supervisor_id]
        assert person.pk == head.pk


def test_id_card_numbers_are_fake_simao_numbers_with_valid_check_digits(
    demo_city: DemoSummary,
) -> None:
    numbers = list(Person.objects.values_list("id_card_number", flat=True))
    assert len(set(numbers)) == len(numbers) == 239
    for number in numbers:
        assert re.fullmatch(r"530802\d{11}[\dX]", number), number
        assert number[17] == id_check_digit(number[:17])
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))  # a real birth date


def test_the_check_digit_matches_a_known_example() -> None:
    # GB 11643 worked example
    assert id_check_digit("11010519491231002") == "X"


def test_the_roster_is_deterministic() -> None:
    first, second = demo_roster(), demo_roster()
    assert first == second
    assert len({p.name for p in first.people}) > 100  # generated, not one repeated name


def test_stations_tile_the_urban_area_without_overlap(demo_city: DemoSummary) -> None:
    stations = list(Station.objects.all())
    cells = list(GridCell.objects.all())
    assert cells
    for cell in cells:
        lat, lon = (cell.min_lat + cell.max_lat) / 2, (cell.min_lon + cell.max_lon) / 2
        owners = [s for s in stations if polygon_contains(s.jurisdiction, lat, lon)]
        assert len(owners) == 1, (cell.code, [s.name for s in owners])
    # A finer lattice than the grid, off every boundary: still exactly one station each.
    for i in range(80):
        for j in range(70):
            lat = AREA_SOUTH + (i + 0.37) * (AREA_NORTH - AREA_SOUTH) / 80
            lon = AREA_WEST + (j + 0.61) * (AREA_EAST - AREA_WEST) / 70
            assert sum(polygon_contains(s.jurisdiction, lat, lon) for s in stations) == 1


def test_station_bounding_boxes_follow_their_polygons(demo_city: DemoSummary) -> None:
    for station in Station.objects.all():
        assert station.bbox == polygon_bbox(station.jurisdiction)


def test_the_grid_covers_the_area_and_each_cell_goes_to_its_nearest_point(
    demo_city: DemoSummary,
) -> None:
    cells = list(GridCell.objects.select_related("staging_point"))
    area = (AREA_NORTH - AREA_SOUTH) * (AREA_EAST - AREA_WEST)
    assert sum((c.max_lat - c.min_lat) * (c.max_lon - c.min_lon) for c in cells) == pytest.approx(
        area
    )
    assert min(c.min_lat for c in cells) == AREA_SOUTH
    assert max(c.max_lon for c in cells) == AREA_EAST
    points = list(StagingPoint.objects.all())
    for cell in cells:
        lat, lon = (cell.min_lat + cell.max_lat) / 2, (cell.min_lon + cell.max_lon) / 2
        nearest = min(points, key=lambda p: haversine_m(lat, lon, p.lat, p.lon))
        assert cell.staging_point == nearest
    assert {c.staging_point.name for c in cells} == POINT_NAMES  # every point patrols some cells
    priority = [c for c in cells if c.priority_zone]
    assert 0 < len(priority) < len(cells) // 4
    assert any(c.staging_point.name == "珠市街" for c in priority)


def test_one_demo_account_per_role(demo_city: DemoSummary) -> None:
    expected = {
        "commander": (Role.COMMANDER, True),
        "dispatcher": (Role.DISPATCHER, True),
        "hr": (Role.HR, True),
        "station": (Role.STATION, True),
        "officer": (Role.UNIT_OFFICER, False),
        "auxiliary": (Role.UNIT_AUXILIARY, False),
    }
    for username, (role, staff) in expected.items():
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [str(role)]
        assert user.is_staff is staff
        assert not user.is_superuser


def test_officer_and_auxiliary_are_the_crew_of_the_unit_at_zhushijie(
    demo_city: DemoSummary,
) -> None:
    officer = Person.objects.get(user__username="officer")
    posting = officer.assignments.get(valid_to__isnull=True)
    assert posting.staging_point is not None and posting.staging_point.name == "珠市街"
    assert posting.team_role == TeamRole.RESPONSIBLE_OFFICER
    auxiliary = Person.objects.get(user__username="auxiliary")
    posting = auxiliary.assignments.get(valid_to__isnull=True)
    assert posting.staging_point == officer.assignments.get().staging_point
    assert posting.shift == 1
    assert (
        Unit.objects.filter(staging_point=posting.staging_point, kind=UnitKind.PATROL).count() == 1
    )


def test_each_elite_squad_member_crews_their_group_and_no_patrol_unit(
    demo_city: DemoSummary,
) -> None:
    from apps.units.selectors import is_crew, unit_for_user
    from tests.support.factories import UserFactory

    members = Person.objects.filter(
        assignments__unit__callsign="尖刀2组", assignments__valid_to=None
    )
    assert members.count() == ELITE_GROUP_MEMBERS + 1  # the group leader and the members
    person = members.first()
    assert person is not None
    person.user = UserFactory(roles=[Role.UNIT_AUXILIARY])
    person.save(update_fields=["user"])
    group = Unit.objects.get(callsign="尖刀2组")
    assert unit_for_user(person.user) == group
    # Based at a staging point, yet the patrol unit there is not theirs, nor theirs the squad's.
    patrol_there = Unit.objects.get(staging_point=group.staging_point, kind=UnitKind.PATROL)
    assert not is_crew(person.user, patrol_there)
    patrol_crew = User.objects.get(username="auxiliary")
    assert not is_crew(patrol_crew, group)


def test_the_station_account_is_on_duty_for_chengbei(demo_city: DemoSummary) -> None:
    duties = StationDuty.objects.filter(user__username="station")
    assert [d.station.name for d in duties] == ["城北派出所"]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row the loader writes, in full."""
    return {
        "station": list(Station.objects.order_by("pk").values_list()),
        "point": list(StagingPoint.objects.order_by("pk").values_list()),
        "cell": list(GridCell.objects.order_by("pk").values_list()),
        "unit": list(Unit.objects.order_by("pk").values_list()),
        "person": list(Person.objects.order_by("pk").values_list()),
        "assignment": list(Assignment.objects.order_by("pk").values_list()),
        "user": list(User.objects.order_by("pk").values_list()),
        "groups": list(User.groups.through.objects.order_by("pk").values_list()),
        "duty": list(StationDuty.objects.order_by("pk").values_list()),
    }


def test_loading_again_changes_nothing(demo_city: DemoSummary) -> None:
    before = snapshot()
    again = load_demo_city(password=DEMO_PASSWORD, history=False)
    assert again.created == 0
    assert snapshot() == before


def test_loading_with_another_password_sets_it_and_adds_nothing(demo_city: DemoSummary) -> None:
    counts = {k: len(v) for k, v in snapshot().items()}
    load_demo_city(password="another-pw", history=False)
    assert {k: len(v) for k, v in snapshot().items()} == counts
    assert authenticate(username="commander", password="another-pw") is not None
    assert authenticate(username="commander", password=DEMO_PASSWORD) is None


def test_the_command_prints_the_numbers_and_the_logins(demo_city: DemoSummary) -> None:
    out = io.StringIO()
    call_command("load_demo_city", "--password", DEMO_PASSWORD, "--no-history", stdout=out)
    text = out.getvalue()
    assert "8 staging points" in text and "224 auxiliaries" in text and "0 rows created" in text
    for username in ("commander", "dispatcher", "hr", "station", "officer", "auxiliary"):
        assert re.search(rf"^\s+{username}\s", text, re.MULTILINE), username
