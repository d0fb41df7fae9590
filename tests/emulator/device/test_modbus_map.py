"""The Modbus face: types, word orders, scalers, byte arrays and padding as the docs'
Modbus page describes them (its own examples are the oracles), and reads in and out of
the map."""

from __future__ import annotations

import math
import struct
from datetime import datetime

import pytest

from emulator.device.errors import SettingsError
from emulator.device.faces.modbus_map import (
    DEFAULT_MAP,
    Register,
    Sources,
    compact_json,
    parse_map,
    read_registers,
    register_words,
)
from tests.support import DEVICE_ID, ZURICH, doc_json_blocks


def sources(now: float = 0.0, firmware: str = "1.2.18") -> Sources:
    return Sources(report=None, now=now, zone=ZURICH, device_id=DEVICE_ID, firmware=firmware)


def words(kind: str, value: float, scaler: int = 0, order: str = "msw") -> list[int]:
    """sys.timestamp is the clock's time: a number a test can set to anything."""
    return register_words(Register("sys.timestamp", kind, scaler), sources(value), order)


def test_word_order_of_the_docs_32_bit_example() -> None:
    assert words("int", 0x12345678) == [0x1234, 0x5678]
    assert words("int", 0x12345678, order="lsw") == [0x5678, 0x1234]
    assert words("long", 0x12345678, order="lsw") == [0x5678, 0x1234, 0, 0]


def test_floats_and_doubles_are_ieee_754_big_endian() -> None:
    high, low = words("float", 233.96)
    assert struct.unpack(">f", struct.pack(">HH", high, low))[0] == pytest.approx(233.96)
    four = words("double", 94255.5, order="lsw")
    assert struct.unpack(">d", struct.pack(">4H", *reversed(four)))[0] == 94255.5
    assert words("float", 1e40) == [0x7F80, 0]  # past float32: infinity, not an error


def test_scalers_multiply_by_powers_of_ten_and_integers_round_and_saturate() -> None:
    assert words("int", 94.2555, 3) == [94256 >> 16, 94256 & 0xFFFF]
    assert words("short", 1234, -1) == [123]
    assert words("short", 40000) == [0x7FFF]
    assert words("short", -5) == [0xFFFB]
    assert words("int", 1e12) == [0x7FFF, 0xFFFF]


def test_padding_zeros_and_ones() -> None:
    assert register_words(Register("0", "double"), sources(), "msw") == [0] * 4
    ones = register_words(Register("1", "float"), sources(), "msw")
    assert ones == [0xFFFF, 0xFFFF]
    assert math.isnan(struct.unpack(">f", struct.pack(">HH", *ones))[0])


def test_the_docs_system_information_registers() -> None:
    moment = datetime(2025, 3, 17, 17, 34, 20, tzinfo=ZURICH).timestamp()
    modbus_map = parse_map([{"start_address": 2000, "registers": [
        {"id": "sys.id"}, {"id": "sys.firmware"}, {"id": "sys.date_time"}]}])
    got = read_registers(modbus_map, sources(moment), 2000, 10)
    # The docs' mbpoll reading of range 3, with its device id and firmware 1.2.18.
    assert got == [0xA842, 0xE39F, 0x8124, 0x0102, 0x1200, 0x0000,
                   0x07E9, 0x0311, 0x1122, 0x1400]


def test_the_dst_flag_and_a_report_less_device() -> None:
    summer = datetime(2025, 7, 1, 12, 0, 0, tzinfo=ZURICH).timestamp()
    date_time = register_words(Register("sys.date_time", "hex"), sources(summer), "msw")
    assert date_time[-1] == 0x0001
    # Before the first report, report values read as zeros.
    empty = read_registers(DEFAULT_MAP, sources(summer), 1, 42)
    assert empty == [0] * 42


def test_reads_must_stay_inside_the_map() -> None:
    assert read_registers(DEFAULT_MAP, sources(), 1, 42) is not None
    assert read_registers(DEFAULT_MAP, sources(), 0, 2) is None
    assert read_registers(DEFAULT_MAP, sources(), 41, 3) is None  # 43 is outside
    assert read_registers(DEFAULT_MAP, sources(), 2, 1) == [0]  # half a float is answered
    assert read_registers(DEFAULT_MAP, sources(), 960, 1) == [0]
    assert read_registers(DEFAULT_MAP, sources(), 961, 1) is None


def test_the_docs_examples_parse_and_round_trip() -> None:
    custom, _, default, _ = doc_json_blocks("35-modbus/index.md")
    assert compact_json(parse_map(custom)) == custom
    assert parse_map(default) == DEFAULT_MAP


def test_a_numeric_type_on_a_byte_array_is_ignored_and_hex_is_refused_on_a_number() -> None:
    parsed = parse_map([{"start_address": 0, "registers": [
        {"id": "sys.date_time", "type": "double", "scaler": 0}]}])
    assert compact_json(parsed) == [{"start_address": 0,
                                     "registers": [{"id": "sys.date_time"}]}]
    with pytest.raises(SettingsError, match="type"):
        parse_map([{"start_address": 0, "registers": [{"id": "1.8.0", "type": "hex"}]}])


def test_sets_that_contain_others_overlap() -> None:
    with pytest.raises(SettingsError, match="overlap"):
        parse_map([{"start_address": 0, "registers": [{"id": "0"}] * 10},
                   {"start_address": 8, "registers": [{"id": "0", "type": "short"}]},
                   {"start_address": 20, "registers": [{"id": "0", "type": "short"}]}])
