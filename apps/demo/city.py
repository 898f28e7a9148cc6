"""The demo city: Simao's grid-based dispatch model (思茅 110 网格化动态接处警), as data.

8 staging points (屯警点), 4 police stations (派出所) whose jurisdictions tile the urban area, a
0.01° grid whose cells go to their nearest staging point, 8 patrol units, and the force of the
model: 15 officers (民警) and 224 auxiliaries (辅警).

- Each staging point: 1 responsible officer (责任民警) and 18 auxiliaries in 3 shifts of 6.
  Shift 1: the squad leader (分队长), a group leader (组长) and 4 members; shifts 2 and 3: a
  group leader and 5 members.
- The elite squad (尖刀队): 45 auxiliaries with no staging point (a squad leader, 4 groups of 1
  group leader + 10 members), under the deputy leader of the SWAT brigade (特警大队). Each group
  is a dispatchable unit with its vehicle (尖刀N组, based at the city-centre staging point); its
  members are posted to it, so they crew it from the patrol app.
- The reserve: the other 35 auxiliaries, with no staging point, in 5 groups of 7.
- The other 7 officers: the sub-bureau leader (分局领导), the SWAT brigade (特警大队: leader,
  deputy, instructor) and the command centre (指挥中心: head and two duty chiefs). They have no
  posting in the grid, so no Assignment.
- Supervisor chain: member → group leader → squad leader → responsible officer → SWAT brigade
  leader → sub-bureau leader.

Positions and jurisdictions are plausible, not surveyed (`approximate=True`). Names, staff
numbers, phone numbers and ID-card numbers are generated from a fixed seed: the same on every run
and every machine, and fake (region 530802 = Simao district, valid check digit).

`load_demo_city()` is idempotent: every row is written with update_or_create on its natural key,
so a second run changes nothing and creates nothing. Demo accounts get the given password on every
run (a password changed in between is set back to it; an unchanged one is not rewritten).

With ``history`` (the default) it then loads the last two months: the incidents of the model's
load and mix (history.py) and the force's assessments, training, mentoring and care (staff.py),
idempotent in the same way.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.db import transaction

from apps.common.geo import haversine_m
from apps.common.roles import STAFF_ROLES, Role, roles_sync
from apps.personnel.models import Assignment, Person, PersonKind, TeamRole
from apps.places.models import Place
from apps.places.services import places_upsert
from apps.stats.selectors import Summary
from apps.stats.selectors import summary as stats_summary
from apps.units.models import GridCell, StagingPoint, Station, StationDuty, Unit, UnitKind
from apps.units.reference import station_apply_bbox, station_containing

from .gazetteer import demo_places
from .history import (
    Area,
    HistoryReport,
    history_calls,
    history_days,
    history_load,
    local_today,
)
from .staff import StaffReport, staff_records_load

SEED = 20240501
SIMAO_REGION = "530802"  # 云南省普洱市思茅区
# The roster's postings start with the reform (May 2024 in the demo's calendar).
POSTED_FROM = datetime(2024, 5, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# The urban area and its grid.
AREA_SOUTH, AREA_NORTH = 22.74, 22.82
AREA_WEST, AREA_EAST = 100.94, 101.01
CELL_DEG = 0.005
# Cells whose centre is this close to the city centre (珠市街) are priority zones (3-minute target).
PRIORITY_RADIUS_M = 800.0
CITY_CENTRE = "zhushijie"

SHIFTS = (1, 2, 3)
PER_SHIFT = 6
ELITE_GROUPS, ELITE_GROUP_MEMBERS = 4, 10  # + 1 squad leader = 45
RESERVE_GROUPS, RESERVE_GROUP_SIZE = 5, 7  # = 35


@dataclass(frozen=True)
class StationSpec:
    code: str
    name: str
    phone: str
    # Outer ring as (lon, lat) corners, counter-clockwise; closed by `polygon`.
    corners: tuple[tuple[float, float], ...]

    @property
    def polygon(self) -> dict[str, Any]:
        ring = [list(c) for c in self.corners]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _rect(south: float, west: float, north: float, east: float) -> tuple[tuple[float, float], ...]:
    return ((west, south), (east, south), (east, north), (west, north))


# Approximate demo jurisdictions; together they tile the urban area's rectangle, without overlap.
STATIONS: tuple[StationSpec, ...] = (
    StationSpec(
        "chengbei", "城北派出所", "0879-2121101", _rect(22.78, AREA_WEST, 22.80, AREA_EAST)
    ),
    StationSpec(
        "chengnan",
        "城南派出所",
        "0879-2121102",
        # L-shaped: the middle-south band and the south-west corner.
        (
            (AREA_WEST, AREA_SOUTH),
            (100.97, AREA_SOUTH),
            (100.97, 22.76),
            (AREA_EAST, 22.76),
            (AREA_EAST, 22.78),
            (AREA_WEST, 22.78),
        ),
    ),
    StationSpec(
        "nanping", "南屏派出所", "0879-2121103", _rect(AREA_SOUTH, 100.97, 22.76, AREA_EAST)
    ),
    StationSpec(
        "yixiang", "倚象派出所", "0879-2121104", _rect(22.80, AREA_WEST, AREA_NORTH, AREA_EAST)
    ),
)


@dataclass(frozen=True)
class PointSpec:
    code: str
    name: str
    lat: float
    lon: float
    address: str


# The model's 8 staging points, at plausible (approximate) positions in Simao's urban area.
STAGING_POINTS: tuple[PointSpec, ...] = (
    PointSpec("zhushijie", "珠市街", 22.7865, 100.9770, "思茅区珠市街"),
    PointSpec("minzucun", "民族村", 22.7560, 100.9880, "思茅区民族村"),
    PointSpec("minhanglu", "民航路", 22.7700, 100.9560, "思茅区民航路"),
    PointSpec("wanrentiyuguan", "万人体育馆", 22.8000, 100.9950, "思茅区万人体育馆"),
    PointSpec("jianshexiang", "建设巷", 22.7930, 100.9660, "思茅区建设巷"),
    PointSpec("zhongliangtianchen", "中梁天宸", 22.7650, 100.9990, "思茅区中梁天宸小区"),
    PointSpec("daxianghuandao", "大象环岛", 22.7790, 100.9850, "思茅区大象环岛"),
    PointSpec("qurenminyiyuan", "区人民医院", 22.8110, 100.9620, "思茅区人民医院"),
)


def unit_callsign(index: int) -> str:
    return f"巡逻{index + 1}号"


def unit_plate(index: int) -> str:
    return f"云J·{1101 + index}警"


def squad_callsign(group: int) -> str:
    return f"尖刀{group + 1}组"


def squad_plate(group: int) -> str:
    return f"云J·{1201 + group}警"


# --- People ----------------------------------------------------------------------------------

SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗段普白岩刀杞鲁字彭"
GIVEN = "国建华明伟强军平勇杰涛斌超磊鹏辉刚俊峰晓文云丽芳艳红燕兰英玲霞春海林洪亮志成"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """The check character of a resident ID number (GB 11643, ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


@dataclass
class PersonSpec:
    staff_number: str
    kind: str
    name: str = ""
    id_card_number: str = ""
    phone: str = ""
    hire_date: date | None = None
    supervisor: str | None = None  # staff number
    title: str = ""  # documentation only (who is who in the chain); not stored
    posting: dict[str, Any] | None = None  # Assignment fields; None = no posting in the grid


@dataclass
class Roster:
    people: list[PersonSpec] = field(default_factory=list)
    # Staff numbers of the demo accounts' people.
    commander: str = ""
    dispatcher: str = ""
    officer: str = ""
    auxiliary: str = ""


def _fill_identity(spec: PersonSpec, rng: random.Random, born: tuple[int, int]) -> None:
    spec.name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    birth = date(rng.randint(*born), 1, 1) + timedelta(days=rng.randrange(365))
    first17 = f"{SIMAO_REGION}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    spec.id_card_number = first17 + id_check_digit(first17)
    spec.phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    spec.hire_date = date(max(birth.year + 20, rng.randint(2005, 2024)), rng.randint(1, 12), 1)


def demo_roster() -> Roster:
    """The 239 people of the demo force, generated deterministically (pure data, no database)."""
    rng = random.Random(SEED)
    roster = Roster()
    officers = (f"SMJ{n:03d}" for n in range(1, 100))
    auxiliaries = (f"SMF{n:03d}" for n in range(1, 1000))

    def officer(title: str, supervisor: str | None, posting: dict[str, Any] | None = None) -> str:
        spec = PersonSpec(next(officers), PersonKind.OFFICER, supervisor=supervisor, title=title)
        spec.posting = posting
        _fill_identity(spec, rng, (1972, 1996))
        roster.people.append(spec)
        return spec.staff_number

    def auxiliary(title: str, supervisor: str, posting: dict[str, Any]) -> str:
        spec = PersonSpec(next(auxiliaries), PersonKind.AUXILIARY, supervisor=supervisor)
        spec.title, spec.posting = title, posting
        _fill_identity(spec, rng, (1988, 2004))
        roster.people.append(spec)
        return spec.staff_number

    bureau = officer("分局领导", None)
    swat = officer("特警大队大队长", bureau)
    swat_deputy = officer("特警大队副大队长（尖刀队、预备队）", swat)
    officer("特警大队教导员", swat)
    centre = officer("指挥中心主任", bureau)
    duty_chief = officer("指挥中心值班长", centre)
    officer("指挥中心值班长", centre)
    roster.commander, roster.dispatcher = centre, duty_chief

    for point in STAGING_POINTS:
        sp = point.code
        responsible = officer(
            f"{point.name}责任民警",
            swat,
            {"staging_point": sp, "shift": None, "team_role": TeamRole.RESPONSIBLE_OFFICER},
        )
        squad_leader = ""
        for shift in SHIFTS:
            posting = {"staging_point": sp, "shift": shift}
            size = PER_SHIFT
            if shift == SHIFTS[0]:
                squad_leader = auxiliary(
                    f"{point.name}分队长",
                    responsible,
                    {**posting, "team_role": TeamRole.SQUAD_LEADER},
                )
                size -= 1
            leader = auxiliary(
                f"{point.name}{shift}班组长",
                squad_leader,
                {**posting, "team_role": TeamRole.GROUP_LEADER},
            )
            for _ in range(size - 1):
                member = auxiliary(
                    f"{point.name}{shift}班队员", leader, {**posting, "team_role": TeamRole.MEMBER}
                )
                if sp == CITY_CENTRE and shift == SHIFTS[0] and not roster.auxiliary:
                    roster.auxiliary = member
        if sp == CITY_CENTRE:
            roster.officer = responsible

    elite = {"staging_point": None, "shift": None, "elite_squad": True}
    elite_leader = auxiliary(
        "尖刀队分队长", swat_deputy, {**elite, "team_role": TeamRole.SQUAD_LEADER}
    )
    for g in range(ELITE_GROUPS):
        group = {**elite, "unit": squad_callsign(g)}
        leader = auxiliary(
            f"尖刀队{g + 1}组组长", elite_leader, {**group, "team_role": TeamRole.GROUP_LEADER}
        )
        for _ in range(ELITE_GROUP_MEMBERS):
            auxiliary(f"尖刀队{g + 1}组队员", leader, {**group, "team_role": TeamRole.MEMBER})

    reserve = {"staging_point": None, "shift": None, "elite_squad": False}
    for g in range(RESERVE_GROUPS):
        leader = auxiliary(
            f"预备队{g + 1}组组长", swat_deputy, {**reserve, "team_role": TeamRole.GROUP_LEADER}
        )
        for _ in range(RESERVE_GROUP_SIZE - 1):
            auxiliary(f"预备队{g + 1}组队员", leader, {**reserve, "team_role": TeamRole.MEMBER})
    return roster


# --- Grid ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellSpec:
    row: int
    col: int
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    @property
    def code(self) -> str:
        return f"G{self.row + 1:02d}{self.col + 1:02d}"

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.min_lat + self.max_lat) / 2, (self.min_lon + self.max_lon) / 2)


def grid_cells() -> Iterator[CellSpec]:
    """The cells over the urban area, row 0 in the south, column 0 in the west."""
    rows = round((AREA_NORTH - AREA_SOUTH) / CELL_DEG)
    cols = round((AREA_EAST - AREA_WEST) / CELL_DEG)
    for row in range(rows):
        for col in range(cols):
            # Rounded so that neighbouring cells share their edges exactly.
            south = round(AREA_SOUTH + row * CELL_DEG, 6)
            west = round(AREA_WEST + col * CELL_DEG, 6)
            yield CellSpec(
                row, col, south, west, round(south + CELL_DEG, 6), round(west + CELL_DEG, 6)
            )


def nearest_point(lat: float, lon: float) -> PointSpec:
    return min(STAGING_POINTS, key=lambda p: haversine_m(lat, lon, p.lat, p.lon))


# --- Loading ---------------------------------------------------------------------------------


@dataclass
class DemoLogin:
    username: str
    role: Role
    description: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("commander", Role.COMMANDER, "指挥中心主任 — everything operational"),
    DemoLogin("dispatcher", Role.DISPATCHER, "指挥中心值班长 — incidents and the unit board"),
    DemoLogin("hr", Role.HR, "人事 — personnel, assessment and training"),
    DemoLogin("station", Role.STATION, "城北派出所值班民警 — incidents transferred to 城北派出所"),
    DemoLogin("officer", Role.UNIT_OFFICER, "珠市街责任民警 — patrol app (phone)"),
    DemoLogin("auxiliary", Role.UNIT_AUXILIARY, "珠市街1班辅警 — patrol app (phone)"),
    DemoLogin("telephony", Role.TELEPHONY, "110 接警平台 — the telephony link reports calls"),
)


@dataclass
class DemoSummary:
    stations: int = 0
    staging_points: int = 0
    cells: int = 0
    priority_cells: int = 0
    units: int = 0
    officers: int = 0
    auxiliaries: int = 0
    places: int = 0
    created: int = 0
    logins: tuple[DemoLogin, ...] = DEMO_LOGINS
    # With history: what was written, the figures of its days, the force's records.
    history: HistoryReport | None = None
    figures: Summary | None = None
    staff: StaffReport | None = None


def _upsert(
    model: Any, summary: DemoSummary, lookup: dict[str, Any], values: dict[str, Any]
) -> Any:
    """update_or_create that writes only when something differs (a second run writes nothing)."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        summary.created += 1
        return model.objects.create(**lookup, **values)
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
    return obj


def _load_reference(summary: DemoSummary) -> dict[str, StagingPoint]:
    stations: list[Station] = []
    for spec in STATIONS:
        probe = Station(jurisdiction=spec.polygon)
        station_apply_bbox(probe)  # derived from the polygon, never typed in
        values = {
            "name": spec.name,
            "phone": spec.phone,
            "jurisdiction": spec.polygon,
            "min_lat": probe.min_lat,
            "min_lon": probe.min_lon,
            "max_lat": probe.max_lat,
            "max_lon": probe.max_lon,
        }
        stations.append(_upsert(Station, summary, {"code": spec.code}, values))

    points: dict[str, StagingPoint] = {}
    for point in STAGING_POINTS:
        station = station_containing(stations, point.lat, point.lon)
        if station is None:
            raise ValueError(f"demo staging point {point.name} is outside every jurisdiction")
        values = {
            "name": point.name,
            "lat": point.lat,
            "lon": point.lon,
            "station": station,
            "address": point.address,
            "approximate": True,
        }
        points[point.code] = _upsert(StagingPoint, summary, {"code": point.code}, values)

    centre = next(p for p in STAGING_POINTS if p.code == CITY_CENTRE)
    for cell in grid_cells():
        lat, lon = cell.centre
        values = {
            "code": cell.code,
            "staging_point": points[nearest_point(lat, lon).code],
            "priority_zone": haversine_m(lat, lon, centre.lat, centre.lon) <= PRIORITY_RADIUS_M,
            "min_lat": cell.min_lat,
            "min_lon": cell.min_lon,
            "max_lat": cell.max_lat,
            "max_lon": cell.max_lon,
        }
        _upsert(GridCell, summary, {"row": cell.row, "col": cell.col}, values)

    for index, point in enumerate(STAGING_POINTS):
        # Status and position belong to live operations: set on creation only, never reset.
        values = {"plate": unit_plate(index), "staging_point": points[point.code]}
        _upsert(Unit, summary, {"callsign": unit_callsign(index)}, values)
    for group in range(ELITE_GROUPS):
        values = {
            "plate": squad_plate(group),
            "staging_point": points[CITY_CENTRE],
            "kind": UnitKind.SQUAD,
        }
        _upsert(Unit, summary, {"callsign": squad_callsign(group)}, values)
    return points


def _load_people(summary: DemoSummary, points: dict[str, StagingPoint], roster: Roster) -> None:
    people: dict[str, Person] = {}
    for spec in roster.people:
        values: dict[str, Any] = {
            "kind": spec.kind,
            "name": spec.name,
            "id_card_number": spec.id_card_number,
            "phone": spec.phone,
            "hire_date": spec.hire_date,
        }
        people[spec.staff_number] = _upsert(
            Person, summary, {"staff_number": spec.staff_number}, values
        )
    for spec in roster.people:
        person = people[spec.staff_number]
        supervisor = people[spec.supervisor] if spec.supervisor else None
        if person.supervisor_id != (supervisor.pk if supervisor else None):
            person.supervisor = supervisor
            person.save(update_fields=["supervisor"])
        if spec.posting is None:
            continue
        posting = dict(spec.posting)
        code = posting.pop("staging_point")
        crewed = posting.get("unit")
        values = {
            "staging_point": points[code] if code else None,
            "unit": Unit.objects.get(callsign=crewed) if crewed else None,
            "shift": posting.get("shift"),
            "team_role": posting["team_role"],
            "elite_squad": posting.get("elite_squad", False),
            "valid_from": POSTED_FROM,
        }
        # The person's current (open-ended) posting is the natural key of the demo's assignment.
        _upsert(Assignment, summary, {"person": person, "valid_to": None}, values)


def _load_accounts(summary: DemoSummary, password: str, roster: Roster) -> None:
    person_of = {
        "commander": roster.commander,
        "dispatcher": roster.dispatcher,
        "officer": roster.officer,
        "auxiliary": roster.auxiliary,
    }
    for login in DEMO_LOGINS:
        user = _upsert(
            User,
            summary,
            {"username": login.username},
            {"is_staff": login.role in STAFF_ROLES, "is_active": True, "is_superuser": False},
        )
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        group = Group.objects.get(name=str(login.role))
        if set(user.groups.all()) != {group}:
            user.groups.set([group])
        staff_number = person_of.get(login.username)
        if staff_number:
            person = Person.objects.get(staff_number=staff_number)
            if person.user_id != user.pk:
                Person.objects.filter(user=user).exclude(pk=person.pk).update(user=None)
                person.user = user
                person.save(update_fields=["user"])
        if login.role == Role.STATION:
            _link_station_duty(summary, user, "chengbei")


def _link_station_duty(summary: DemoSummary, user: User, station_code: str) -> None:
    """The `station` account is the duty officer of 城北派出所 (units.StationDuty)."""

    station = Station.objects.get(code=station_code)
    if not StationDuty.objects.filter(user=user, station=station).exists():
        StationDuty.objects.create(user=user, station=station)
        summary.created += 1


def load_demo_city(
    *, password: str = "demo", history: bool = True, stream: Any = None, quiet: bool = True
) -> DemoSummary:
    """Load (or re-load) the demo city in one transaction, then (``history``) its last two
    months; returns what is there afterwards. Progress of the history goes to ``stream`` unless
    ``quiet``."""
    summary = DemoSummary()
    roster = demo_roster()
    with transaction.atomic():
        roles_sync()
        points = _load_reference(summary)
        _load_people(summary, points, roster)
        _load_accounts(summary, password, roster)
        # The gazetteer (apps.places): created or updated by code, so a second run adds nothing.
        summary.created += places_upsert(places=demo_places(STAGING_POINTS, STATIONS)).created
    if history:
        _load_history(summary, roster, stream=stream, quiet=quiet)
    summary.stations = Station.objects.count()
    summary.staging_points = StagingPoint.objects.count()
    summary.cells = GridCell.objects.count()
    summary.priority_cells = GridCell.objects.filter(priority_zone=True).count()
    summary.units = Unit.objects.count()
    summary.officers = Person.objects.filter(kind=PersonKind.OFFICER).count()
    summary.auxiliaries = Person.objects.filter(kind=PersonKind.AUXILIARY).count()
    summary.places = Place.objects.filter(demo=True).count()
    return summary


def _load_history(summary: DemoSummary, roster: Roster, *, stream: Any, quiet: bool) -> None:
    """The incidents of the 61 days up to yesterday, then the force's records of them."""
    days = history_days(local_today())
    calls = history_calls(
        days=days,
        points=STAGING_POINTS,
        callsigns=[unit_callsign(i) for i in range(len(STAGING_POINTS))],
        area=Area(AREA_SOUTH, AREA_WEST, AREA_NORTH, AREA_EAST),
        seed=SEED,
    )
    report = history_load(days=days, calls=calls, stream=stream, quiet=quiet)
    summary.history = report
    summary.created += report.created
    if report.stopped:
        return
    summary.staff = staff_records_load(roster=roster, history_days=days)
    summary.created += summary.staff.created
    # The figures of the history's days, from the statistics service (as the dashboard).
    summary.figures = stats_summary(start=days[0], end=days[-1])
