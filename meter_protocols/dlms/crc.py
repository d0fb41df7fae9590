"""CRC-16/X.25 (ISO/IEC 13239 frame check sequence) used for the HDLC HCS and FCS.

Reflected polynomial 0x1021 (0x8408), initial value 0xFFFF, final XOR 0xFFFF; the result is
sent least significant byte first.
"""

from __future__ import annotations

from typing import Final


def _table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        rows.append(crc)
    return tuple(rows)


_TABLE: Final = _table()


def crc16_x25(data: bytes | bytearray | memoryview) -> int:
    crc = 0xFFFF
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF


def fcs_bytes(data: bytes | bytearray) -> bytes:
    """The two check bytes as they go on the wire."""
    return crc16_x25(data).to_bytes(2, "little")
