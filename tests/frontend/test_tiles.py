"""The project's own tile server (frontend/tiles.py): tiles from an MBTiles file, and never a 500
for a tile, an unknown tile, or a missing or broken file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client, override_settings

from frontend.tiles import EMPTY_PNG
from tests.support.tiles import mbtiles, png

TILE = png((10, 20, 30, 255))


@pytest.fixture
def tiles_file(tmp_path: Path) -> Path:
    # z=13 x=6393 y=3560 holds Simao (XYZ numbering; stored as TMS rows in the file).
    return mbtiles(tmp_path / "simao.mbtiles", {(13, 6393, 3560): TILE, (0, 0, 0): png()})


def get(path: str) -> tuple[int, str, bytes]:
    response = Client().get(path)
    return response.status_code, response.get("Content-Type", ""), response.content


def test_a_tile_is_served_from_the_file_with_its_type_and_a_day_of_caching(
    tiles_file: Path,
) -> None:
    with override_settings(MAP_TILES_FILE=str(tiles_file)):
        response = Client().get("/tiles/13/6393/3560")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == TILE
    assert response["Cache-Control"] == "public, max-age=86400"


def test_a_tile_the_file_does_not_hold_is_transparent_not_an_error(tiles_file: Path) -> None:
    with override_settings(MAP_TILES_FILE=str(tiles_file)):
        # The TMS row of the wanted tile's y: present under the other numbering only.
        assert get(f"/tiles/13/6393/{(1 << 13) - 1 - 3560}") == (200, "image/png", EMPTY_PNG)
        assert get("/tiles/18/1/1") == (200, "image/png", EMPTY_PNG)


@pytest.mark.parametrize(
    "path", ["/tiles/1/2/0", "/tiles/1/0/2", "/tiles/25/0/0", "/tiles/0/0/0/", "/tiles/a/b/c"]
)
def test_a_tile_outside_the_zoom_range_or_a_bad_path_is_a_404(tiles_file: Path, path: str) -> None:
    with override_settings(MAP_TILES_FILE=str(tiles_file)):
        assert get(path)[0] == 404


def test_no_file_a_missing_file_or_a_broken_one_is_a_404_never_a_500(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mbtiles"
    broken.write_bytes(b"this is not a database" * 100)
    vector = mbtiles(tmp_path / "vector.mbtiles", {(0, 0, 0): b"\x1a\x00"}, fmt="pbf")
    for file in ("", str(tmp_path / "missing.mbtiles"), str(broken), str(vector), str(tmp_path)):
        with override_settings(MAP_TILES_FILE=file):
            assert get("/tiles/0/0/0")[0] == 404, file


def test_a_replaced_file_is_read_again(tmp_path: Path) -> None:
    file = mbtiles(tmp_path / "t.mbtiles", {(0, 0, 0): png((1, 1, 1, 255))})
    with override_settings(MAP_TILES_FILE=str(file)):
        assert get("/tiles/0/0/0")[2] == png((1, 1, 1, 255))
        newer = mbtiles(tmp_path / "t2.mbtiles", {(0, 0, 0): png((2, 2, 2, 255))})
        newer.replace(file)
        os.utime(file, (file.stat().st_atime, file.stat().st_mtime + 10))
        assert get("/tiles/0/0/0")[2] == png((2, 2, 2, 255))
