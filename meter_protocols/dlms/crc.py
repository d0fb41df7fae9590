"""The HDLC frame check sequence: CRC-16/X.25 (meter_protocols.crc), sent low byte first."""

from __future__ import annotations

from meter_protocols.crc import crc16_x25

__all__ = ["crc16_x25", "fcs_bytes"]


def fcs_bytes(data: bytes | bytearray) -> bytes:
    """The two check bytes as they go on the wire."""
    return crc16_x25(data).to_bytes(2, "little")
