"""Draw the patrol app's icons (PNG) with the standard library only.

Run `python frontend/tools/make_icons.py`.

A police-blue square with a white shield and a red/blue light bar. The maskable icon keeps the
drawing inside the central 80 % safe zone and fills the whole square with the background.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "app" / "icons"
BLUE = (11, 61, 145)
WHITE = (255, 255, 255)
RED = (220, 30, 40)
LIGHT_BLUE = (40, 120, 240)


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def pixel(x: float, y: float, scale: float) -> tuple[int, int, int]:
    """Colour at (x, y) in a unit square, the drawing scaled around the centre by `scale`."""
    u = (x - 0.5) / scale + 0.5
    v = (y - 0.5) / scale + 0.5
    # light bar across the top of the shield
    if 0.22 <= v <= 0.32 and 0.2 <= u <= 0.8:
        return RED if u < 0.5 else LIGHT_BLUE
    # shield: a rectangle above a triangle
    half = 0.28
    if 0.36 <= v <= 0.62 and abs(u - 0.5) <= half:
        inner = v >= 0.40 and abs(u - 0.5) <= half - 0.05
        return BLUE if inner and (0.47 <= v <= 0.55 and abs(u - 0.5) <= 0.15) else WHITE
    if 0.62 < v <= 0.86:
        width = half * (0.86 - v) / 0.24
        if abs(u - 0.5) <= width:
            return WHITE
    return BLUE


def draw(size: int, scale: float) -> bytes:
    rows = []
    for j in range(size):
        row = bytearray()
        for i in range(size):
            row.extend(pixel((i + 0.5) / size, (j + 0.5) / size, scale))
        rows.append(bytes(row))
    return png(size, size, rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon-192.png").write_bytes(draw(192, 1.0))
    (OUT / "icon-512.png").write_bytes(draw(512, 1.0))
    (OUT / "maskable-512.png").write_bytes(draw(512, 0.75))


if __name__ == "__main__":
    main()
