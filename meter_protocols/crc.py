"""The CRC-16s of the meter protocols, one definition each, computed in C.

- CRC-16/X.25 (ISO/IEC 13239): the HDLC header and frame check sequences of DLMS links.
  Reflected polynomial 0x1021 (0x8408), initial value 0xFFFF, final XOR 0xFFFF; sent least
  significant byte first.
- CRC-16/CCITT as KMP uses it (XMODEM: polynomial 0x1021, initial 0, most significant bit
  first, no final XOR); over a frame with its CRC appended it gives 0.

Both are `binascii.crc_hqx` (CRC-CCITT, most significant bit first): the reflected X.25 is
the same register run over bit-reversed bytes, its result bit-reversed. A frame check then
costs C time per byte rather than a Python loop, which keeps hostile input (a frame start
whose length lands on a flag at every third byte) cheap to reject. Table-driven reference
implementations in the tests hold them equal.

- CRC-16/ARC as DSMR P1 telegrams use it (polynomial 0x8005 reflected, 0xA001; initial 0;
  no final XOR), over "/" ... "!". No C routine of the standard library computes it. A
  reflected 16-bit CRC takes two bytes per step when its table is indexed by the register
  XOR the next two bytes read little-endian: 65,536 entries (128 kB as an array of unsigned
  shorts, built on first use), half the Python steps of a byte table and about 3.5 times
  faster than it (70 µs for a 900-byte telegram instead of 210 µs here), itself six times
  faster than dsmr-parser's loop over characters.
"""

from __future__ import annotations

import sys
from array import array
from binascii import crc_hqx
from typing import Final

#: Each byte with its bits in reverse order.
_REVERSED: Final = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _arc_table() -> tuple[int, ...]:
    table = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_ARC: Final = _arc_table()


_arc_words: array[int] | None = None


def _arc_word_table() -> array[int]:
    """The register after two bytes, indexed by (register XOR the two bytes, little-endian)."""
    global _arc_words  # noqa: PLW0603 - built once, on first use (128 kB, ~30 ms)
    if _arc_words is None:
        table = _ARC
        words = array("H", bytes(2 * 65536))
        for index in range(65536):
            crc = (index >> 8) ^ table[index & 0xFF]
            words[index] = (crc >> 8) ^ table[crc & 0xFF]
        _arc_words = words
    return _arc_words


def crc16_arc(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC of `data`, continuing from `crc`."""
    view = memoryview(data).cast("B")
    if len(view) & 1:
        crc = (crc >> 8) ^ _ARC[(crc ^ view[0]) & 0xFF]
        view = view[1:]
    words: memoryview | array[int] = view.cast("H")
    if sys.byteorder == "big":  # the table reads the two bytes little-endian
        words = array("H", view.tobytes())
        words.byteswap()
    table = _arc_words or _arc_word_table()
    for word in words:
        crc = table[crc ^ word]
    return crc


def crc16_x25(data: bytes | bytearray | memoryview) -> int:
    crc = crc_hqx(bytes(data).translate(_REVERSED), 0xFFFF)
    return ((_REVERSED[crc & 0xFF] << 8) | _REVERSED[crc >> 8]) ^ 0xFFFF


def crc16_ccitt(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/CCITT of `data`, continuing from `crc`."""
    return crc_hqx(data, crc)
