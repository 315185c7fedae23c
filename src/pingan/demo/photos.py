"""Synthetic evidence photos for the demo history: small PNGs drawn in code, marked as synthetic by
their stripes (no real scene is depicted)."""

from __future__ import annotations

import struct
import zlib


def striped_png(
    width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (46, 125, 50)
) -> bytes:
    """A valid PNG with diagonal stripes in one colour on white."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            row.extend(rgb if (x + y) // 6 % 2 == 0 else (255, 255, 255))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
