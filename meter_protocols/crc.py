"""The CRC-16s of the meter protocols, table driven, one definition each.

- CRC-16/X.25 (ISO/IEC 13239): the HDLC header and frame check sequences of DLMS links.
  Reflected polynomial 0x1021 (0x8408), initial value 0xFFFF, final XOR 0xFFFF; sent least
  significant byte first.
- CRC-16/CCITT as KMP uses it (XMODEM: polynomial 0x1021, initial 0, most significant bit
  first, no final XOR); over a frame with its CRC appended it gives 0.

(The P1 telegram CRC is dsmr-parser's CRC16/ARC: see meter_protocols.dsmr.decoder.)
"""

from __future__ import annotations

from typing import Final


def _reflected_table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        rows.append(crc)
    return tuple(rows)


def _msb_first_table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        rows.append(crc & 0xFFFF)
    return tuple(rows)


_X25: Final = _reflected_table()
_CCITT: Final = _msb_first_table()


def crc16_x25(data: bytes | bytearray | memoryview) -> int:
    crc = 0xFFFF
    table = _X25
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF


def crc16_ccitt(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/CCITT of `data`, continuing from `crc`."""
    table = _CCITT
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ byte) & 0xFF]
    return crc
