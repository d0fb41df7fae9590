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

(The P1 telegram CRC is dsmr-parser's CRC16/ARC: see meter_protocols.dsmr.decoder.)
"""

from __future__ import annotations

from binascii import crc_hqx
from typing import Final

#: Each byte with its bits in reverse order.
_REVERSED: Final = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def crc16_x25(data: bytes | bytearray | memoryview) -> int:
    crc = crc_hqx(bytes(data).translate(_REVERSED), 0xFFFF)
    return ((_REVERSED[crc & 0xFF] << 8) | _REVERSED[crc >> 8]) ^ 0xFFFF


def crc16_ccitt(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/CCITT of `data`, continuing from `crc`."""
    return crc_hqx(data, crc)
