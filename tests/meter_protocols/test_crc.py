"""The CRCs equal the textbook bit-by-bit definitions and the implementations they replaced."""

from __future__ import annotations

from dsmr_parser.parsers import TelegramParser
from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.crc import _C_ARC, crc16_arc, crc16_arc_table, crc16_ccitt, crc16_x25
from tests.conftest import real_fixture


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


def _arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_arc_check_value() -> None:
    # The catalogue's check value of CRC-16/ARC, and a real P1 telegram's own CRC line.
    assert crc16_arc(b"123456789") == 0xBB3D
    telegram = real_fixture("dsmr", "misc", "nl_iskra_am550_dsmr50_3F8B.txt").read_bytes()
    bang = telegram.rindex(b"!")
    sent = telegram[bang + 1:].strip()
    assert sent, "the fixture carries a CRC line"
    assert crc16_arc(telegram[:bang + 1]) == int(sent, 16)


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_arc_equal_to_the_definition_and_to_dsmr_parser(head: bytes, tail: bytes) -> None:
    data = head + tail
    assert crc16_arc(data) == _arc(data)
    assert crc16_arc(tail, crc16_arc(head)) == _arc(data)  # continues from a CRC
    assert crc16_arc(memoryview(data)) == _arc(data)
    # The implementation the P1 decoder used before: dsmr-parser's, over Latin-1 text.
    assert crc16_arc(data) == TelegramParser.crc16(data.decode("latin-1"))


@given(st.binary(max_size=301), st.binary(max_size=300))
def test_arc_in_python_equal_to_the_definition(head: bytes, tail: bytes) -> None:
    """The table that runs where crcmod-plus's C extension does not (odd and even lengths,
    continued, from a memoryview)."""
    data = head + tail
    assert crc16_arc_table(data) == _arc(data)
    assert crc16_arc_table(tail, crc16_arc_table(head)) == _arc(data)
    assert crc16_arc_table(memoryview(data)) == _arc(data)
    assert crc16_arc_table(bytearray(data)) == _arc(data)


def test_arc_runs_in_c_where_the_dependency_is_installed() -> None:
    # crcmod-plus is a dependency with wheels for CI's platform: its C routine is used.
    assert _C_ARC is not None
    assert _C_ARC(b"123456789", 0) == 0xBB3D
