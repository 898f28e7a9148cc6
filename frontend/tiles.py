"""Map tiles from an MBTiles file on the server's own disk (MAP_TILES_FILE): the base map of a
police intranet that has no internet.

`GET /tiles/<z>/<x>/<y>` answers the tile's bytes (XYZ numbering; MBTiles stores rows in TMS order,
so y is flipped). A tile the file does not hold (beyond the surveyed area, or a zoom it lacks) is
a transparent tile: the map stays quiet there, as tile servers do. No file configured, a missing
file, a file that is not an MBTiles database of raster tiles, a tile outside the zoom's range:
404 (the patrol app then says the base map is unavailable), never a 500. Tiles are public (an
<img> cannot send the patrol app's token) and cached by browsers for a day.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

MAX_ZOOM = 24
# A 1×1 transparent PNG.
EMPTY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII="
)
FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def _connect(file: str) -> sqlite3.Connection:
    # Read-only, shared by the threads of the process (each query is one short SELECT).
    uri = Path(file).resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


@lru_cache(maxsize=4)
def _source(file: str, mtime: float) -> tuple[sqlite3.Connection, str]:
    """The open file and its tiles' content type; reopened when the file changes (mtime)."""
    conn = _connect(file)
    row = conn.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
    fmt = (row[0] if row else "png").lower()
    if fmt not in FORMATS:
        raise sqlite3.DatabaseError(f"tile format {fmt!r} is not a raster format this serves")
    return conn, FORMATS[fmt]


def tile_read(file: str, z: int, x: int, y: int) -> tuple[bytes, str] | None:
    """The tile's bytes and content type (a transparent PNG where the file holds no tile), or
    None (out of range, no usable file)."""
    if not file or z > MAX_ZOOM or x >= 1 << z or y >= 1 << z:
        return None
    try:
        conn, content_type = _source(file, Path(file).stat().st_mtime)
        row = conn.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y),
        ).fetchone()
    except (OSError, sqlite3.Error) as exc:
        log.warning("map tiles: cannot read %s: %s", file, exc)
        return None
    if row is None or not row[0]:
        return EMPTY_PNG, "image/png"
    return bytes(row[0]), content_type


@require_GET
def tile_view(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    found = tile_read(settings.MAP_TILES_FILE, z, x, y)
    if found is None:
        raise Http404("no such tile")
    data, content_type = found
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


urlpatterns = [
    path("tiles/<int:z>/<int:x>/<int:y>", tile_view, name="map-tile"),
]
