"""Writing P1 telegrams: number formats of the DSMR companion standard and the CRC line."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from meter_protocols.dsmr.decoder import crc16
from meter_protocols.errors import ProtocolError


def fixed(value: float, int_digits: int, decimals: int) -> str:
    """DSMR fixed-width number: fixed(44.258, 6, 3) -> "000044.258".

    A value wider than its digits wraps, as a register rolls over; infinity saturates at
    all nines and NaN is sent as zero (no register holds either).
    """
    if value < 0:
        raise ProtocolError(f"P1 registers are unsigned, got {value}")
    width = int_digits + (decimals + 1 if decimals else 0)
    if not math.isfinite(value):
        nines = "9" * int_digits + ("." + "9" * decimals if decimals else "")
        return nines if value > 0 else fixed(0.0, int_digits, decimals)
    text = f"{value:0{width}.{decimals}f}"
    if len(text) > width:  # the register overflowed its digits, as a real one wraps
        text = text[-width:]
    return text


def timestamp(local: datetime) -> str:
    """DSMR time stamp YYMMDDhhmmssX, X = S in summer time, W in winter time."""
    dst = local.dst()
    flag = "S" if dst is not None and dst > timedelta(0) else "W"
    return (f"{local.year % 100:02d}{local.month:02d}{local.day:02d}"
            f"{local.hour:02d}{local.minute:02d}{local.second:02d}{flag}")


def hex_text(text: str) -> str:
    """Equipment identifiers and messages are sent as hex-encoded ASCII."""
    return text.encode("ascii").hex().upper()


def telegram(header: str, lines: Iterable[str]) -> bytes:
    """A complete telegram: header, empty line, data lines, "!" and the CRC."""
    if not header.startswith("/"):
        raise ProtocolError("a P1 telegram header starts with '/'")
    body = header + "\r\n\r\n" + "".join(line + "\r\n" for line in lines) + "!"
    return (body + f"{crc16(body):04X}\r\n").encode("ascii")
