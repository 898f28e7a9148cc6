"""manage.py import_places: CSV and GeoJSON, the row-level report, idempotence, GCJ-02 input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from apps.common.geo import gcj02_to_wgs84, haversine_m, wgs84_to_gcj02
from apps.common.imports import Reject
from apps.places.importer import import_places
from apps.places.models import Place, PlaceKey
from apps.places.selectors import place_search

pytestmark = pytest.mark.django_db

HEADER = "name,address,kind,lat,lon,aliases\n"
GOOD = (
    "珠市街,思茅区珠市街,road,22.7865,100.977,\n"
    "普洱市人民医院,思茅区人民路,building,22.789,100.978,市医院|市人民医院\n"
    "洗马湖公园,思茅区洗马湖路,地标,22.783,100.960,洗马湖;洗馬湖公園\n"
)


def run(
    tmp_path: Path, text: str, *args: str, name: str = "places.csv", rejected: int = 0
) -> tuple[str, str]:
    """The command's output and errors; with rejected rows it must exit non-zero."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        if rejected:
            with pytest.raises(CommandError, match=f"^{rejected} rows were rejected"):
                call_command("import_places", str(path), "--quiet", *args, stdout=out, stderr=err)
        else:
            call_command("import_places", str(path), "--quiet", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_csv_is_imported_with_kinds_aliases_and_search_keys(tmp_path: Path) -> None:
    out, err = run(tmp_path, HEADER + GOOD)
    assert "3 rows read: 3 places created, 0 updated, 0 unchanged, 0 rejected." in out
    assert err == ""
    park = Place.objects.get(name="洗马湖公园")
    assert park.kind == "landmark" and park.aliases == ["洗马湖", "洗馬湖公園"]
    assert [h.place.name for h in place_search(q="市医院")] == ["普洱市人民医院"]
    assert place_search(q="zsj")[0].place.name == "珠市街"


def test_bad_rows_are_reported_by_line_and_column_and_skipped(tmp_path: Path) -> None:
    text = (
        HEADER
        + "珠市街,,road,22.7865,100.977,\n"  # line 2: good
        + "月光路,,avenue,22.78,100.98,\n"  # line 3: unknown kind
        + "人民路,,road,north,100.98,\n"  # line 4: not a number
        + ",,road,22.78,100.98,\n"  # line 5: no name
        + "远方,,poi,95,200,\n"  # line 6: both out of range
        + "多余,,poi,22.78,100.98,,extra\n"  # line 7: more fields than the header
        + "洗马湖公园,,landmark,22.783,100.960,\n"  # line 8: good
    )
    rejects: list[Reject] = []
    with (tmp_path / "p.csv").open("w", encoding="utf-8") as fh:
        fh.write(text)
    with (tmp_path / "p.csv").open(encoding="utf-8") as fh:
        report = import_places(fh, on_reject=rejects.append)
    assert (report.rows, report.created, report.rejected_rows) == (7, 2, 5)
    assert [(r.line, r.column) for r in rejects] == [
        (3, "kind"),
        (4, "lat"),
        (5, "name"),
        (6, "lat"),
        (6, "lon"),
        (7, ""),
    ]
    assert set(Place.objects.values_list("name", flat=True)) == {"珠市街", "洗马湖公园"}
    _, err = run(tmp_path, text, name="again.csv", rejected=5)
    assert "line 3, kind: " in err and "line 7, -: " in err


def test_a_file_without_the_required_columns_is_refused_whole(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="lat, lon"):
        run(tmp_path, "name,kind,address\n珠市街,road,\n")
    with pytest.raises(CommandError):
        run(tmp_path, "")
    assert not Place.objects.exists()


def test_importing_again_changes_nothing_and_a_changed_row_updates_its_place(
    tmp_path: Path,
) -> None:
    run(tmp_path, HEADER + GOOD)
    before = list(Place.objects.order_by("pk").values())
    keys = PlaceKey.objects.count()
    out, _ = run(tmp_path, HEADER + GOOD)
    assert "0 places created, 0 updated, 3 unchanged" in out
    assert list(Place.objects.order_by("pk").values()) == before
    assert PlaceKey.objects.count() == keys
    changed = GOOD.replace("思茅区珠市街,road", "思茅区珠市街1号,road")
    out, _ = run(tmp_path, HEADER + changed)
    assert "0 places created, 1 updated, 2 unchanged" in out
    assert Place.objects.get(name="珠市街").address == "思茅区珠市街1号"


def test_a_code_column_keys_a_place_that_moves_or_is_renamed(tmp_path: Path) -> None:
    run(tmp_path, "code,name,kind,lat,lon\nP1,旧名,poi,22.78,100.97\n")
    run(tmp_path, "code,name,kind,lat,lon\nP1,新名,poi,22.79,100.98\n")
    place = Place.objects.get()
    assert (place.name, place.lat, place.lon) == ("新名", 22.79, 100.98)
    assert [h.place.pk for h in place_search(q="新名")] == [place.pk]
    assert place_search(q="旧名") == []


def feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def test_geojson_points_and_lines_are_imported_and_bad_features_reported(
    tmp_path: Path,
) -> None:
    line = [[100.95, 22.78], [100.975, 22.78], [101.005, 22.78]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature({"type": "LineString", "coordinates": line}, name="振兴大道", kind="road"),
            feature(
                {"type": "Point", "coordinates": [100.977, 22.7865]},
                name="珠市街",
                kind="road",
                aliases=["珠市"],
            ),
            feature({"type": "Polygon", "coordinates": []}, name="坏的", kind="poi"),
            feature({"type": "Point", "coordinates": [100.97, 22.78]}, name="无类", kind="?"),
            feature(
                {"type": "LineString", "coordinates": [[1, "x"], [2, 3]]}, name="坏线", kind="road"
            ),
        ],
    }
    out, err = run(tmp_path, json.dumps(doc, ensure_ascii=False), name="p.geojson", rejected=3)
    assert "5 rows read: 2 places created" in out and "3 rejected" in out
    assert "line 3, geometry:" in err and "line 4, kind:" in err and "line 5, geometry:" in err
    road = Place.objects.get(name="振兴大道")
    assert road.line == {"type": "LineString", "coordinates": line}
    assert (road.lat, road.lon) == (22.78, 100.975)  # the middle vertex
    assert Place.objects.get(name="珠市街").aliases == ["珠市"]


def test_gcj02_input_is_stored_in_wgs84(tmp_path: Path) -> None:
    wgs = (22.7865, 100.977)
    gcj = wgs84_to_gcj02(*wgs)
    assert haversine_m(*wgs, *gcj) > 100  # the shift the option undoes
    run(tmp_path, f"name,kind,lat,lon\n珠市街,road,{gcj[0]!r},{gcj[1]!r}\n", "--crs", "gcj02")
    place = Place.objects.get()
    assert haversine_m(place.lat, place.lon, *wgs) < 1


def test_gcj02_to_wgs84_inverts_the_forward_transform_to_under_a_metre() -> None:
    for lat, lon in [(22.7865, 100.977), (39.9, 116.4), (31.23, 121.47), (45.75, 126.65)]:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
        assert haversine_m(lat, lon, *back) < 1, (lat, lon)
    assert gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)  # outside China: no shift
