"""The demo city's gazetteer: Simao's main roads and their intersections, the staging points, the
police stations, hospitals, schools, markets, communities and landmarks.

Positions are plausible, not surveyed (`demo=True`), inside the demo city's urban area. Roads are
straight lines (east–west or north–south); their intersections are computed from them, not typed.
Every place has a code (`demo-…`), its import key, so loading again updates rather than adds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from apps.places.models import PlaceKind
from apps.places.services import PlaceData


class StagingPointLike(Protocol):
    """A staging point of the demo city (city.PointSpec; passed in: city.py imports this)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def address(self) -> str: ...


@dataclass(frozen=True)
class Road:
    code: str
    name: str
    # An east–west road: fixed latitude, from west to east; a north–south road: fixed longitude.
    fixed: float
    start: float
    end: float
    east_west: bool
    aliases: tuple[str, ...] = ()

    def contains(self, along: float) -> bool:
        return self.start <= along <= self.end


ROADS: tuple[Road, ...] = (
    Road("zhenxing", "振兴大道", 22.7800, 100.9500, 101.0050, True),
    Road("simao", "思茅大道", 22.7650, 100.9450, 101.0050, True),
    Road("renmin", "人民路", 22.7900, 100.9550, 100.9950, True, ("人民中路",)),
    Road("minhang", "民航路", 22.7700, 100.9450, 100.9750, True),
    Road("zhushi", "珠市街", 22.7865, 100.9720, 100.9820, True),
    Road("nanping", "南屏路", 22.7550, 100.9750, 101.0050, True),
    Road("yixiang", "倚象路", 22.8080, 100.9550, 100.9950, True),
    Road("chacheng", "茶城大道", 100.9950, 22.7500, 22.8150, False),
    Road("yueguang", "月光路", 100.9800, 22.7600, 22.8050, False),
    Road("ximahu", "洗马湖路", 100.9650, 22.7700, 22.8000, False),
    Road("jianshe", "建设巷", 100.9660, 22.7900, 22.7960, False),
    Road("hongqi", "红旗广场路", 100.9740, 22.7800, 22.7950, False),
)


@dataclass(frozen=True)
class Spot:
    code: str
    name: str
    kind: str
    lat: float
    lon: float
    address: str
    aliases: tuple[str, ...] = ()


# Station buildings by station code, each inside its jurisdiction; the names are the stations'
# own (apps/demo/city.py STATIONS, passed in).
STATION_BUILDINGS: dict[str, tuple[float, float, str]] = {
    "chengbei": (22.7880, 100.9720, "思茅区人民路"),
    "chengnan": (22.7700, 100.9620, "思茅区民航路"),
    "nanping": (22.7520, 100.9900, "思茅区南屏路"),
    "yixiang": (22.8080, 100.9700, "思茅区倚象路"),
}

SPOTS: tuple[Spot, ...] = (
    # hospitals
    Spot(
        "hosp-city",
        "普洱市人民医院",
        PlaceKind.BUILDING,
        22.7890,
        100.9780,
        "思茅区人民路",
        ("市医院", "市人民医院"),
    ),
    Spot(
        "hosp-district",
        "思茅区人民医院",
        PlaceKind.BUILDING,
        22.8112,
        100.9618,
        "思茅区倚象路",
        ("区医院",),
    ),
    Spot(
        "hosp-tcm",
        "普洱市中医医院",
        PlaceKind.BUILDING,
        22.7820,
        100.9710,
        "思茅区振兴大道",
        ("中医院",),
    ),
    Spot(
        "hosp-women",
        "普洱市妇幼保健院",
        PlaceKind.BUILDING,
        22.7760,
        100.9800,
        "思茅区月光路",
        ("妇幼保健院",),
    ),
    # schools
    Spot("sch-puer", "普洱中学", PlaceKind.BUILDING, 22.7950, 100.9760, "思茅区人民路"),
    Spot(
        "sch-no1",
        "思茅第一中学",
        PlaceKind.BUILDING,
        22.7840,
        100.9690,
        "思茅区振兴大道",
        ("思茅一中",),
    ),
    Spot(
        "sch-no2",
        "思茅第二中学",
        PlaceKind.BUILDING,
        22.7710,
        100.9720,
        "思茅区民航路",
        ("思茅二中",),
    ),
    Spot(
        "sch-primary",
        "思茅第一小学",
        PlaceKind.BUILDING,
        22.7880,
        100.9810,
        "思茅区月光路",
        ("思茅一小",),
    ),
    Spot("sch-college", "普洱学院", PlaceKind.BUILDING, 22.7560, 100.9950, "思茅区茶城大道"),
    # markets
    Spot("mkt-chacheng", "茶城农贸市场", PlaceKind.POI, 22.7780, 100.9930, "思茅区茶城大道"),
    Spot(
        "mkt-simao",
        "思茅农贸市场",
        PlaceKind.POI,
        22.7860,
        100.9740,
        "思茅区珠市街",
        ("珠市街菜市场",),
    ),
    Spot("mkt-nanping", "南屏农贸市场", PlaceKind.POI, 22.7550, 100.9860, "思茅区南屏路"),
    Spot("mkt-yixiang", "倚象农贸市场", PlaceKind.POI, 22.8060, 100.9830, "思茅区倚象路"),
    Spot(
        "mall-wanda", "普洱万达广场", PlaceKind.POI, 22.7820, 100.9880, "思茅区振兴大道", ("万达",)
    ),
    # residential communities
    Spot(
        "com-zhongliang",
        "中梁天宸小区",
        PlaceKind.COMMUNITY,
        22.7650,
        100.9990,
        "思茅区思茅大道",
        ("中梁天宸",),
    ),
    Spot("com-minzu", "民族村", PlaceKind.COMMUNITY, 22.7560, 100.9880, "思茅区南屏路"),
    Spot("com-chacheng", "茶城印象小区", PlaceKind.COMMUNITY, 22.7720, 100.9960, "思茅区茶城大道"),
    Spot("com-ximahu", "洗马湖小区", PlaceKind.COMMUNITY, 22.7850, 100.9620, "思茅区洗马湖路"),
    Spot("com-yueguang", "月光城小区", PlaceKind.COMMUNITY, 22.7930, 100.9830, "思茅区月光路"),
    Spot("com-yangguang", "阳光小区", PlaceKind.COMMUNITY, 22.7980, 100.9700, "思茅区人民路"),
    Spot("com-jinxiu", "锦绣花园", PlaceKind.COMMUNITY, 22.7740, 100.9870, "思茅区月光路"),
    Spot("com-binjiang", "滨江花园", PlaceKind.COMMUNITY, 22.7600, 100.9700, "思茅区思茅大道"),
    Spot("com-jianshe", "建设新村", PlaceKind.COMMUNITY, 22.7940, 100.9640, "思茅区建设巷"),
    # landmarks
    Spot(
        "lm-ximahu",
        "洗马湖公园",
        PlaceKind.LANDMARK,
        22.7830,
        100.9600,
        "思茅区洗马湖路",
        ("洗马湖",),
    ),
    Spot("lm-elephant", "大象环岛", PlaceKind.LANDMARK, 22.7790, 100.9850, "思茅区振兴大道"),
    Spot("lm-stadium", "万人体育馆", PlaceKind.LANDMARK, 22.8000, 100.9950, "思茅区茶城大道"),
    Spot("lm-teacity", "普洱茶城", PlaceKind.LANDMARK, 22.7750, 100.9960, "思茅区茶城大道"),
    Spot(
        "lm-bus",
        "普洱客运站",
        PlaceKind.LANDMARK,
        22.7720,
        100.9820,
        "思茅区月光路",
        ("汽车客运站", "客运站"),
    ),
    Spot(
        "lm-airport",
        "普洱思茅机场",
        PlaceKind.LANDMARK,
        22.7610,
        100.9590,
        "思茅区民航路",
        ("机场",),
    ),
    Spot("lm-square", "红旗广场", PlaceKind.LANDMARK, 22.7880, 100.9740, "思茅区红旗广场路"),
    Spot(
        "lm-gov",
        "思茅区人民政府",
        PlaceKind.BUILDING,
        22.7870,
        100.9760,
        "思茅区人民路",
        ("区政府",),
    ),
)


def _intersections() -> list[PlaceData]:
    out: list[PlaceData] = []
    east_west = [r for r in ROADS if r.east_west]
    north_south = [r for r in ROADS if not r.east_west]
    for ew in east_west:
        for ns in north_south:
            lat, lon = ew.fixed, ns.fixed
            if ew.contains(lon) and ns.contains(lat):
                out.append(
                    PlaceData(
                        name=f"{ew.name}与{ns.name}交叉口",
                        kind=PlaceKind.INTERSECTION,
                        lat=lat,
                        lon=lon,
                        address=f"思茅区{ew.name}",
                        aliases=(f"{ns.name}与{ew.name}交叉口", f"{ew.name}{ns.name}路口"),
                        code=f"demo-x-{ew.code}-{ns.code}",
                        demo=True,
                    )
                )
    return out


class StationLike(Protocol):
    """A police station of the demo city (city.StationSpec)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...


def demo_places(
    staging_points: Iterable[StagingPointLike], stations: Iterable[StationLike]
) -> list[PlaceData]:
    """The demo gazetteer as data (no database)."""
    places: list[PlaceData] = []
    for road in ROADS:
        if road.east_west:
            line = [[road.start, road.fixed], [road.end, road.fixed]]
        else:
            line = [[road.fixed, road.start], [road.fixed, road.end]]
        mid_lon, mid_lat = (line[0][0] + line[1][0]) / 2, (line[0][1] + line[1][1]) / 2
        places.append(
            PlaceData(
                name=road.name,
                kind=PlaceKind.ROAD,
                lat=round(mid_lat, 6),
                lon=round(mid_lon, 6),
                address=f"思茅区{road.name}",
                aliases=road.aliases,
                line={"type": "LineString", "coordinates": line},
                code=f"demo-road-{road.code}",
                demo=True,
            )
        )
    places.extend(_intersections())
    for point in staging_points:
        places.append(
            PlaceData(
                name=f"{point.name}屯警点",
                kind=PlaceKind.LANDMARK,
                lat=point.lat,
                lon=point.lon,
                address=point.address,
                code=f"demo-sp-{point.code}",
                demo=True,
            )
        )
    for station in stations:
        lat, lon, address = STATION_BUILDINGS[station.code]
        spot = Spot(station.code, station.name, PlaceKind.BUILDING, lat, lon, address)
        places.append(_spot(spot, f"demo-station-{spot.code}"))
    for spot in SPOTS:
        places.append(_spot(spot, f"demo-{spot.code}"))
    return places


def _spot(spot: Spot, code: str) -> PlaceData:
    return PlaceData(
        name=spot.name,
        kind=spot.kind,
        lat=spot.lat,
        lon=spot.lon,
        address=spot.address,
        aliases=spot.aliases,
        code=code,
        demo=True,
    )
