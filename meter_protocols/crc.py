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
  no final XOR), over "/" ... "!". No C routine of the standard library computes it:
  crcmod-plus's C extension does (a dependency: 5 µs for a 900-byte telegram). Without it
  (a platform with no wheel, or its pure-Python fallback), a table indexed by the register
  XOR the next two bytes read little-endian (65,536 entries, 128 kB of unsigned shorts,
  built on first use) takes two bytes a step: 70 µs, three times a byte table, about
  twenty times dsmr-parser's loop over characters. Tests hold all of them equal.
"""

from __future__ import annotations

import sys
from array import array
from binascii import crc_hqx
from collections.abc import Callable
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


def crc16_arc_table(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC of `data`, continuing from `crc`, in Python."""
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


def _c_arc() -> Callable[[bytes | bytearray | memoryview, int], int] | None:
    try:
        import crcmod  # noqa: PLC0415 - optional at run time
        from crcmod.crcmod import _usingExtension  # noqa: PLC0415
    except ImportError:
        return None
    if not _usingExtension:
        return None  # its fallback is a Python loop over bytes: ours is faster
    function: Callable[[bytes | bytearray | memoryview, int], int] = crcmod.mkCrcFun(
        0x18005, initCrc=0, rev=True, xorOut=0)
    return function


_C_ARC: Final = _c_arc()


def crc16_arc(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC of `data`, continuing from `crc`."""
    if _C_ARC is not None:
        return _C_ARC(data, crc)
    return crc16_arc_table(data, crc)


def crc16_x25(data: bytes | bytearray | memoryview) -> int:
    crc = crc_hqx(bytes(data).translate(_REVERSED), 0xFFFF)
    return ((_REVERSED[crc & 0xFF] << 8) | _REVERSED[crc >> 8]) ^ 0xFFFF


def crc16_ccitt(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/CCITT of `data`, continuing from `crc`."""
    return crc_hqx(data, crc)
