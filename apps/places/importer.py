"""Import of places from CSV or GeoJSON (``python manage.py import_places FILE [--crs gcj02]``).

CSV: a header row is required (names case-insensitive, any order):

========  ========  =====================================================================
column    required  value
========  ========  =====================================================================
name      yes       ≤ 100 characters
kind      yes       road, intersection, building, poi, community, landmark, or their Chinese
                    name: 道路, 路口/交叉口, 建筑, 兴趣点, 小区/社区, 地标
lat, lon  yes       degrees, WGS-84 (or GCJ-02 with ``--crs gcj02``)
address   no        ≤ 200 characters
aliases   no        other names, separated by ``|`` or ``;``
code      no        a stable identifier of the place (≤ 64 characters)
========  ========  =====================================================================

GeoJSON: a FeatureCollection of Point or LineString features with the same properties (a
LineString's position is its middle vertex; the line is kept for roads). Its "line" in the
report is the feature's number (1-based).

Idempotent: a place is found again by its code when the file gives one, else by kind, name and
position rounded to 4 decimals (services.place_key); a found place is updated when its values
differ and left alone when not. A rejected row is reported as (line, column, reason) and nothing
of it is written; the other rows go on. A file without the required columns is refused whole.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.utils.translation import gettext as _

from apps.common.geo import gcj02_to_wgs84
from apps.common.imports import ImportFileError, Reject

from .models import PlaceKind
from .services import PlaceData, place_errors, places_upsert

BATCH_SIZE = 1000
REPORT_MAX_REJECTS = 200
REQUIRED_COLUMNS = ("name", "kind", "lat", "lon")
CRS = ("wgs84", "gcj02")

KIND_NAMES: dict[str, str] = {
    **{k.value: k.value for k in PlaceKind},
    "道路": PlaceKind.ROAD,
    "路": PlaceKind.ROAD,
    "路口": PlaceKind.INTERSECTION,
    "交叉口": PlaceKind.INTERSECTION,
    "建筑": PlaceKind.BUILDING,
    "兴趣点": PlaceKind.POI,
    "小区": PlaceKind.COMMUNITY,
    "社区": PlaceKind.COMMUNITY,
    "地标": PlaceKind.LANDMARK,
}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    rejects: list[Reject] = field(default_factory=list)
    # Stopped on request (Ctrl-C) at a batch boundary: the batches before are written.
    stopped: bool = False


def _aliases(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in re.split(r"[|;；]", text) if a.strip())


def _number(errors: list[tuple[str, str]], name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.append((name, _("Not a number: %(value)s") % {"value": value}))
        return math.nan
    if not math.isfinite(number):
        errors.append((name, _("Not a number: %(value)s") % {"value": value}))
    return number


def _to_place(
    props: dict[str, Any], lat_in: Any, lon_in: Any, line: dict[str, Any] | None, crs: str
) -> tuple[PlaceData | None, list[tuple[str, str]]]:
    errors: list[tuple[str, str]] = []

    def text(name: str) -> str:
        value = props.get(name)
        return "" if value is None else str(value).strip()

    kind = KIND_NAMES.get(text("kind").lower(), KIND_NAMES.get(text("kind"), ""))
    if not kind:
        errors.append(("kind", _("Unknown kind: %(value)s") % {"value": text("kind")}))
    lat = _number(errors, "lat", lat_in)
    lon = _number(errors, "lon", lon_in)
    aliases_in = props.get("aliases")
    if isinstance(aliases_in, list):
        aliases = tuple(str(a).strip() for a in aliases_in if str(a).strip())
    else:
        aliases = _aliases(text("aliases"))
    if errors:
        return None, errors
    if crs == "gcj02" and abs(lat) <= 90 and abs(lon) <= 180:
        lat, lon = gcj02_to_wgs84(lat, lon)
        if line is not None:
            line = {
                "type": "LineString",
                "coordinates": [
                    list(reversed(gcj02_to_wgs84(pt[1], pt[0]))) for pt in line["coordinates"]
                ],
            }
    data = PlaceData(
        name=text("name"),
        kind=kind,
        lat=lat,
        lon=lon,
        address=text("address"),
        aliases=aliases,
        line=line,
        code=text("code"),
    )
    return (None, list(place_errors(data).items())) if place_errors(data) else (data, [])


Row = tuple[int, PlaceData | None, list[tuple[str, str]]]


def _csv_rows(stream: TextIO, crs: str) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        raise ImportFileError(_("The file is empty."))
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames]
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise ImportFileError(_("Missing columns: %(columns)s") % {"columns": ", ".join(missing)})
    for row in reader:
        if None in row:  # more fields than the header names
            yield reader.line_num, None, [("", _("More fields than columns in the header."))]
            continue
        data, errors = _to_place(row, row.get("lat"), row.get("lon"), None, crs)
        yield reader.line_num, data, errors


def _geojson_rows(stream: TextIO, crs: str) -> Iterator[Row]:
    try:
        doc = json.load(stream)
    except json.JSONDecodeError as exc:
        raise ImportFileError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportFileError(_("A GeoJSON file must be a FeatureCollection."))
    for number, feature in enumerate(doc.get("features") or [], 1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        line = None
        try:
            if kind == "Point":
                lon, lat = coords[0], coords[1]  # type: ignore[index]
            elif kind == "LineString" and coords and len(coords) >= 2:
                vertices = [[float(p[0]), float(p[1])] for p in coords]
                if not all(abs(lon) <= 180 and abs(lat) <= 90 for lon, lat in vertices):
                    raise ValueError
                line = {"type": "LineString", "coordinates": vertices}
                lon, lat = vertices[len(vertices) // 2]
            else:
                raise TypeError
        except (TypeError, IndexError, KeyError, ValueError):
            yield number, None, [("geometry", _("A Point or a LineString is required."))]
            continue
        data, errors = _to_place(props, lat, lon, line, crs)
        yield number, data, errors


def import_places(
    stream: TextIO,
    *,
    fmt: str = "csv",
    crs: str = "wgs84",
    batch_size: int = BATCH_SIZE,
    on_reject: Callable[[Reject], None] | None = None,
    on_batch: Callable[[int], bool] | None = None,
) -> ImportReport:
    """Import places from a CSV or GeoJSON text stream (see the module docstring).

    Each batch is written in its own transaction by services.places_upsert (an import is
    idempotent: run again, it leaves unchanged what it wrote). After each batch,
    ``on_batch(rows read so far)`` is called; True stops the import there (Ctrl-C), with
    ``report.stopped`` set.
    """
    if crs not in CRS:
        raise ImportFileError(_("Unknown coordinate system: %(crs)s") % {"crs": crs})
    rows = _geojson_rows(stream, crs) if fmt == "geojson" else _csv_rows(stream, crs)
    report = ImportReport()

    def reject(line: int, column: str, reason: str) -> None:
        item = Reject(line, column, reason)
        if len(report.rejects) < REPORT_MAX_REJECTS:
            report.rejects.append(item)
        if on_reject is not None:
            on_reject(item)

    batch: list[PlaceData] = []

    def flush() -> None:
        if batch:
            counts = places_upsert(places=batch)
            report.created += counts.created
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            batch.clear()

    for line, data, errors in rows:
        report.rows += 1
        if data is None:
            report.rejected_rows += 1
            for column, reason in errors:
                reject(line, column, reason)
            continue
        batch.append(data)
        if len(batch) >= batch_size:
            flush()
            if on_batch is not None and on_batch(report.rows):
                report.stopped = True
                return report
    flush()
    if on_batch is not None:
        on_batch(report.rows)
    return report
