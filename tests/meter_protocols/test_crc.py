"""The C-computed CRCs equal the textbook bit-by-bit definitions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.crc import crc16_ccitt, crc16_x25


def _x25(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def _ccitt(data: bytes, crc: int) -> int:
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def test_check_values() -> None:
    assert crc16_x25(b"123456789") == 0x906E
    assert crc16_ccitt(b"123456789") == 0x31C3


@given(st.binary(max_size=300), st.integers(0, 0xFFFF))
def test_equal_to_the_definitions(data: bytes, start: int) -> None:
    assert crc16_x25(data) == _x25(data)
    assert crc16_x25(bytearray(data)) == _x25(data)
    assert crc16_ccitt(data, start) == _ccitt(data, start)
