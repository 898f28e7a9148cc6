"""place_search: how Chinese text ranks (exact, prefix, partial, any order), pinyin, traditional
input and nearness. Places are written through the real service, which computes their keys."""

from __future__ import annotations

from typing import Any

import pytest

from apps.common.geo import LatLon
from apps.places.models import PlaceKey, PlaceKind
from apps.places.selectors import ANY_ORDER, EXACT, PARTIAL, PREFIX, place_search
from apps.places.services import PlaceData, places_upsert

pytestmark = pytest.mark.django_db

# Two hospitals whose names match 人民医院 equally well, 4 km apart.
CITY_HOSPITAL = (22.7890, 100.9780)
DISTRICT_HOSPITAL = (22.8112, 100.9618)


def place(
    name: str, kind: str = PlaceKind.POI, lat: float = 22.78, lon: float = 100.97, **kw: Any
) -> PlaceData:
    return PlaceData(name=name, kind=kind, lat=lat, lon=lon, code=kw.pop("code", name), **kw)


@pytest.fixture
def city() -> None:
    places_upsert(
        places=[
            place("人民路", PlaceKind.ROAD),
            place("人民路小学", PlaceKind.BUILDING),
            place("北人民路", PlaceKind.ROAD),
            place("振兴大道", PlaceKind.ROAD),
            place("月光路", PlaceKind.ROAD),
            place("振兴大道与月光路交叉口", PlaceKind.INTERSECTION, lat=22.78, lon=100.98),
            place("珠市街", PlaceKind.ROAD),
            place("洗马湖公园", PlaceKind.LANDMARK, aliases=("洗马湖",)),
            place("普洱市人民医院", PlaceKind.BUILDING, *CITY_HOSPITAL),
            place("思茅区人民医院", PlaceKind.BUILDING, *DISTRICT_HOSPITAL),
            place("重庆路", PlaceKind.ROAD),
        ]
    )


def names(q: str, **kw: Any) -> list[str]:
    return [hit.place.name for hit in place_search(q=q, **kw)]


def test_an_exact_name_comes_first_then_prefixes_then_partial_matches(city: None) -> None:
    hits = place_search(q="人民路")
    assert [h.place.name for h in hits][:3] == ["人民路", "人民路小学", "北人民路"]
    assert [h.rank for h in hits][:3] == [EXACT, PREFIX, PARTIAL]


def test_a_name_typed_in_pieces_in_any_order_finds_the_intersection(city: None) -> None:
    for q in ("振兴大道月光路", "月光路振兴大道", "月光路 振兴大道"):
        hits = place_search(q=q)
        assert hits, q
        assert hits[0].place.name == "振兴大道与月光路交叉口", q
        assert hits[0].rank == ANY_ORDER
        # Each road alone holds only one of the pieces.
        assert "振兴大道" not in [h.place.name for h in hits], q


def test_a_substring_of_a_name_finds_it(city: None) -> None:
    assert names("月光路交叉") == ["振兴大道与月光路交叉口"]
    assert "洗马湖公园" in names("湖公园")


def test_pinyin_initials_find_the_street(city: None) -> None:
    assert names("zsj")[0] == "珠市街"
    assert names("ZSJ")[0] == "珠市街"


def test_full_pinyin_and_its_prefix_find_the_street(city: None) -> None:
    assert names("zhushijie")[0] == "珠市街"
    assert names("zhushi")[0] == "珠市街"
    # A heteronym read as a place name (重庆 chóngqìng, not zhòngqìng).
    assert names("chongqinglu") == ["重庆路"]


def test_traditional_input_finds_simplified_names(city: None) -> None:
    assert names("振興大道")[0] == "振兴大道"
    assert names("洗馬湖公園")[0] == "洗马湖公园"
    assert names("洗馬湖")[0] == "洗马湖公园"  # through its alias


def test_nearness_orders_matches_of_the_same_rank(city: None) -> None:
    near_district = LatLon(DISTRICT_HOSPITAL[0] + 0.001, DISTRICT_HOSPITAL[1])
    near_city = LatLon(CITY_HOSPITAL[0] - 0.001, CITY_HOSPITAL[1])
    both = {"普洱市人民医院", "思茅区人民医院"}
    assert set(names("人民医院")) == both
    assert names("人民医院", near=near_district) == ["思茅区人民医院", "普洱市人民医院"]
    assert names("人民医院", near=near_city) == ["普洱市人民医院", "思茅区人民医院"]
    # Nearness never lifts a worse match over a better one.
    assert names("人民路", near=LatLon(22.9, 101.1))[0] == "人民路"


def test_with_more_matches_than_candidates_the_near_ones_are_still_ranked() -> None:
    far = [place(f"医院{i}", lat=22.70, lon=100.90 + i * 0.001) for i in range(10)]
    places_upsert(places=[*far, place("医院近", lat=22.80, lon=101.00)])
    here = LatLon(22.801, 101.0)
    assert names("医院", near=here, limit=1, candidates=5) == ["医院近"]


def test_one_character_finds_the_names_that_start_with_it(city: None) -> None:
    assert names("人") == ["人民路", "人民路小学"]  # not 北人民路, 普洱市人民医院


def test_nothing_matches_text_found_nowhere(city: None) -> None:
    assert names("火星基地") == []
    assert names("   ") == []


def test_the_limit_bounds_the_answer(city: None) -> None:
    assert len(names("人民", limit=2)) == 2


def test_renaming_a_place_replaces_its_keys(city: None) -> None:
    places_upsert(places=[place("红旗路", PlaceKind.ROAD, code="珠市街")])
    assert names("zsj") == []
    assert names("hql") == ["红旗路"]
    assert not PlaceKey.objects.filter(key__startswith="珠市").exists()


def test_a_search_costs_a_bounded_number_of_queries(
    city: None, django_assert_max_num_queries: Any
) -> None:
    # Exact, prefix, partial and the places; the fragment probes when the text occurs nowhere.
    with django_assert_max_num_queries(4):
        place_search(q="人民路")
    with django_assert_max_num_queries(16):
        place_search(q="振兴大道月光路")
