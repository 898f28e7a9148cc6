"""Gazetteer search: place_search over many synthetic places (plus the demo city's gazetteer),
in-process on PostgreSQL. The places are written through apps.places.services.places_upsert (the
import's path, which computes the search keys); typical queries are timed, each repeated, and
the median and 95th percentile reported per query and over all of them."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from bench.data import CENTER, SPAN
from bench.env import machine, write_result

SEED = 12
BATCH = 5000

# Proper names and generic endings a Chinese city's gazetteer is made of.
PROPER = "振兴茶城月光思茅人民洗马湖珠市建设民航南屏倚象红旗胜利文化团结新华和平东风育才"
PROPER += "北门西湖锦绣阳光滨江翠云梅子龙潭宁洱普洱倚象白云青松明珠金鼎银河凤凰"
ROAD_ENDS = ("路", "街", "大道", "巷", "东路", "西路", "南路", "北路", "中路")
SPOT_ENDS = (
    ("小区", "community"),
    ("花园", "community"),
    ("新村", "community"),
    ("医院", "building"),
    ("中学", "building"),
    ("小学", "building"),
    ("大厦", "building"),
    ("农贸市场", "poi"),
    ("超市", "poi"),
    ("酒店", "poi"),
    ("药店", "poi"),
    ("加油站", "poi"),
    ("广场", "landmark"),
    ("公园", "landmark"),
)

QUERIES: list[tuple[str, str, bool]] = [
    # (label, query, with a point to be near)
    ("exact", "珠市街", False),
    ("prefix", "振兴", False),
    ("partial", "人民医院", True),
    ("any order", "振兴大道月光路", False),
    ("pinyin initials", "zsj", False),
    ("full pinyin", "zhushijie", False),
    ("traditional", "洗馬湖公園", False),
    ("generic, near", "医院", True),
    ("one character", "振", True),
    ("not found", "火星基地", False),
]


def _proper(rng: random.Random) -> str:
    return "".join(rng.choice(PROPER) for _ in range(rng.choice((2, 2, 3))))


def synthetic(n: int) -> list[Any]:
    from apps.places.models import PlaceKind
    from apps.places.services import PlaceData

    rng = random.Random(SEED)
    lat0, lon0 = CENTER[0] - SPAN / 2, CENTER[1] - SPAN / 2
    roads = [_proper(rng) + rng.choice(ROAD_ENDS) for _ in range(max(1, n // 20))]
    out = []
    for i in range(n):
        lat, lon = lat0 + rng.random() * SPAN, lon0 + rng.random() * SPAN
        roll = rng.random()
        aliases: tuple[str, ...] = ()
        if roll < 0.05:
            name, kind = roads[i % len(roads)], PlaceKind.ROAD
        elif roll < 0.15:
            a, b = rng.sample(roads, 2)
            name, kind = f"{a}与{b}交叉口", PlaceKind.INTERSECTION
        else:
            end, kind = rng.choice(SPOT_ENDS)
            name = _proper(rng) + end
            if rng.random() < 0.3:
                name += f"{rng.randint(1, 30)}号楼"
            if rng.random() < 0.2:
                aliases = (_proper(rng) + end,)
        out.append(
            PlaceData(
                name=name,
                kind=kind,
                lat=lat,
                lon=lon,
                address=f"思茅区{rng.choice(roads)}{rng.randint(1, 300)}号",
                aliases=aliases,
                code=f"bench-{i}",
            )
        )
    return out


def load(n: int) -> dict[str, Any]:
    from django.db import connection

    from apps.demo.city import STAGING_POINTS
    from apps.demo.gazetteer import demo_places
    from apps.places.models import Place, PlaceKey
    from apps.places.services import places_upsert

    with connection.cursor() as c:
        c.execute(f'TRUNCATE "{PlaceKey._meta.db_table}", "{Place._meta.db_table}" CASCADE')
    started = time.monotonic()
    places_upsert(places=demo_places(STAGING_POINTS))
    rows = synthetic(n)
    for i in range(0, len(rows), BATCH):
        places_upsert(places=rows[i : i + BATCH])
    took = time.monotonic() - started
    # As autovacuum would after a large import: statistics, and the visibility map that lets
    # the candidate queries read PlaceKey's index alone.
    with connection.cursor() as c:
        c.execute(f'VACUUM ANALYZE "{PlaceKey._meta.db_table}"')
        c.execute(f'VACUUM ANALYZE "{Place._meta.db_table}"')
    out = {
        "places": Place.objects.count(),
        "search_key_rows": PlaceKey.objects.count(),
        "load_seconds": round(took, 1),
    }
    print(
        f"  loaded {out['places']} places ({out['search_key_rows']} key rows) in {took:.0f}s",
        flush=True,
    )
    return out


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(p95, 2),
        "max": round(ordered[-1], 2),
    }


def run(*, places: int, repeats: int) -> dict[str, Any]:
    from apps.common.geo import LatLon
    from apps.places.selectors import place_search

    result: dict[str, Any] = {"benchmark": "places", "machine": machine(), "repeats": repeats}
    result.update(load(places))
    near = LatLon(*CENTER)
    every: list[float] = []
    result["queries"] = []
    for label, q, with_near in QUERIES:
        point = near if with_near else None
        hits = place_search(q=q, near=point)  # warm up
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            place_search(q=q, near=point)
            runs.append(1000 * (time.perf_counter() - t))
        every.extend(runs)
        row = {
            "label": label,
            "q": q,
            "near": with_near,
            "hits": len(hits),
            "top": hits[0].place.name if hits else None,
            **_ms(runs),
        }
        result["queries"].append(row)
        print(
            f"  {label:16} {q!r:12} {len(hits):2d} hits, top {row['top']}: median "
            f"{row['median']} ms, p95 {row['p95']} ms",
            flush=True,
        )
    result["all_queries_ms"] = _ms(every)
    print(
        f"  all queries: median {result['all_queries_ms']['median']} ms, "
        f"p95 {result['all_queries_ms']['p95']} ms",
        flush=True,
    )
    result["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_result("places", result)
    return result
