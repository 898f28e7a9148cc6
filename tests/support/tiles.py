"""A small MBTiles file for the tests of the project's own tile server (frontend/tiles.py)."""

from __future__ import annotations

import sqlite3
import struct
import zlib
from pathlib import Path


def png(rgba: tuple[int, int, int, int] = (200, 180, 150, 255)) -> bytes:
    """A 1×1 PNG of one colour."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgba))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], fmt: str = "png") -> Path:
    """An MBTiles file holding `tiles`, keyed by XYZ (z, x, y) as a web map asks for them."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
            "tile_data BLOB)"
        )
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", fmt)])
        conn.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],
        )
    conn.close()
    return path
