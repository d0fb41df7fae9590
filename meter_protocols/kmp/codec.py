"""KMP frames on the wire: CRC, byte stuffing, and the frame around a data-link message.

A frame, in either direction::

    start  stuffed(address, CID, data..., CRC high, CRC low)  0x0D

- start is 0x80 for a request (gateway -> meter) and 0x40 for a response (meter -> gateway);
  a command that returns no data is acknowledged by the single byte 0x06.
- address: 0x3F is the meter itself (heat meters answer 0x7F/0xBF for their loggers).
- CRC: CRC-16/CCITT as KMP uses it: polynomial 0x1021, initial value 0, no reflection,
  no final XOR (the variant also called XMODEM), over address..data, sent big-endian.
  Over address..CRC the same CRC is 0.
- Stuffing: each of 0x06 0x0D 0x1B 0x40 0x80 between start and stop is sent as 0x1B
  followed by the byte XOR 0xFF, so start, stop and ACK bytes never occur inside a frame.

Decoding never raises: bad input gives a `Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from meter_protocols.crc import crc16_ccitt
from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings, Parity
from meter_protocols.readings import Problem, ProblemKind, problem

STOP: Final = 0x0D
ACK: Final = 0x06
ESCAPE: Final = 0x1B
#: Bytes that are escaped inside a frame.
RESERVED: Final = frozenset((0x06, 0x0D, 0x1B, 0x40, 0x80))
#: The meter's own address.
METER_ADDRESS: Final = 0x3F
#: Largest frame (start to stop, stuffed) either end accepts. A GetRegister answer for
#: eight registers with 4-byte mantissas is 76 bytes before stuffing, at most twice that
#: after; 512 leaves room for long mantissas and never lets garbage grow a buffer.
MAX_FRAME: Final = 512
#: address + CID + CRC: the shortest data-link message.
MIN_DATALINK: Final = 4

#: Line settings of a KMP port (optical eye or TTL module connector of an electricity
#: meter): 9600 baud, 8 data bits, no parity, 2 stop bits.
LINE: Final = LineSettings(9600, 8, Parity.NONE, 2.0)


class Direction(IntEnum):
    """The start byte, which says who sent the frame."""

    REQUEST = 0x80  # gateway -> meter
    RESPONSE = 0x40  # meter -> gateway


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/CCITT (poly 0x1021, init 0, MSB first) of `data`, continuing from `crc`."""
    return crc16_ccitt(data, crc)


def stuff(data: bytes) -> bytes:
    """Escape the reserved bytes of a data-link message (address..CRC)."""
    out = bytearray()
    for byte in data:
        if byte in RESERVED:
            out += bytes((ESCAPE, byte ^ 0xFF))
        else:
            out.append(byte)
    return bytes(out)


def unstuff(data: bytes) -> bytes | None:
    """Undo `stuff`; None when an escape is dangling or does not yield a reserved byte."""
    out = bytearray()
    escaped = False
    for byte in data:
        if escaped:
            value = byte ^ 0xFF
            if value not in RESERVED:
                return None
            out.append(value)
            escaped = False
        elif byte == ESCAPE:
            escaped = True
        else:
            out.append(byte)
    return None if escaped else bytes(out)


@dataclass(frozen=True, slots=True)
class Message:
    """One data-link message: who sent it, to/from which address, the command and its data."""

    direction: Direction
    address: int
    cid: int
    data: bytes = b""
    size: int = 0  # bytes on the wire (start to stop), 0 when not read from the wire


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """The single-byte 0x06 a meter sends for a command that returns no data."""


def encode(direction: Direction, cid: int, data: bytes = b"",
           address: int = METER_ADDRESS) -> bytes:
    """The physical frame for a message: start, stuffed address..CRC, stop."""
    if not 0 <= address <= 0xFF or not 0 <= cid <= 0xFF:
        raise ProtocolError(f"address and CID are single bytes, got {address}, {cid}")
    body = bytes((address, cid)) + data
    body += crc16(body).to_bytes(2, "big")
    return bytes((direction,)) + stuff(body) + bytes((STOP,))


def encode_request(cid: int, data: bytes = b"", address: int = METER_ADDRESS) -> bytes:
    return encode(Direction.REQUEST, cid, data, address)


def encode_response(cid: int, data: bytes = b"", address: int = METER_ADDRESS) -> bytes:
    return encode(Direction.RESPONSE, cid, data, address)


def decode_datalink(direction: Direction, datalink: bytes, size: int = 0) -> Message | Problem:
    """Check the CRC of an unstuffed address..CRC message and split it."""
    if len(datalink) < MIN_DATALINK:
        return problem(ProblemKind.TRUNCATED,
                       f"KMP message of {len(datalink)} bytes, at least {MIN_DATALINK} needed",
                       datalink)
    if crc16(datalink) != 0:
        sent = int.from_bytes(datalink[-2:], "big")
        return problem(ProblemKind.BAD_CRC,
                       f"KMP CRC {crc16(datalink[:-2]):04X} computed, {sent:04X} sent",
                       datalink)
    return Message(direction, datalink[0], datalink[1], bytes(datalink[2:-2]), size)


def decode_frame(raw: bytes) -> Message | Problem:
    """Decode one complete physical frame (start byte to stop byte)."""
    if len(raw) < 2 or raw[0] not in (Direction.REQUEST, Direction.RESPONSE) or raw[-1] != STOP:
        return problem(ProblemKind.MALFORMED, "not a KMP frame (start 0x80/0x40 ... 0x0D)", raw)
    datalink = unstuff(raw[1:-1])
    if datalink is None:
        return problem(ProblemKind.MALFORMED, "invalid byte stuffing in KMP frame", raw)
    return decode_datalink(Direction(raw[0]), datalink, len(raw))
