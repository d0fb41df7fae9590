"""A-XDR codec: known encodings, round trips, and hostile input."""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.dlms import axdr
from meter_protocols.dlms.axdr import AxdrError, AxdrIncomplete, Data, Tag
from meter_protocols.dlms.cosem_time import CosemDateTime, encode, parse


@pytest.mark.parametrize(
    ("hex_value", "tag", "value"),
    [
        ("0600000118", Tag.UINT32, 280),
        ("10ff38", Tag.INT16, -200),
        ("0fff", Tag.INT8, -1),
        ("1209c3", Tag.UINT16, 2499),
        ("14fffffffffffffffe", Tag.INT64, -2),
        ("15000000000001257d", Tag.UINT64, 75133),
        ("1641", Tag.ENUM, 65),
        ("0300", Tag.BOOLEAN, False),
        ("0a0441424344", Tag.VISIBLE_STRING, "ABCD"),
        ("0903010203", Tag.OCTET_STRING, b"\x01\x02\x03"),
        ("00", Tag.NULL, None),
        ("183ff0000000000000", Tag.FLOAT64, 1.0),
    ],
)
def test_known_encodings(hex_value: str, tag: int, value: object) -> None:
    decoded = axdr.decode_all(bytes.fromhex(hex_value))
    assert decoded.tag == tag
    assert decoded.value == value
    assert axdr.encode(decoded).hex() == hex_value


def test_structures_and_long_lengths() -> None:
    raw = bytes.fromhex("0202" "0906" "0100010800ff" "0202" "0f00" "161e")
    value = axdr.decode_all(raw)
    assert value.tag == Tag.STRUCTURE
    assert value.size == 2
    assert value.items[1].items[1].value == 30
    long_string = axdr.octets(bytes(300))
    encoded = axdr.encode(long_string)
    assert encoded[:4] == bytes.fromhex("09820 12c".replace(" ", ""))
    assert axdr.decode_all(encoded) == long_string


def test_compact_array() -> None:
    # compact-array of structure {long-unsigned, integer}, two rows
    raw = bytes.fromhex("13" "0202120f" "06" "0001fe" "0002fd")
    value = axdr.decode_all(raw)
    assert value.tag == Tag.COMPACT_ARRAY
    assert [[i.value for i in row.items] for row in value.items] == [[1, -2], [2, -3]]


def test_incomplete_is_told_apart_from_invalid() -> None:
    with pytest.raises(AxdrIncomplete):
        axdr.decode(bytes.fromhex("060000"))
    with pytest.raises(AxdrIncomplete):
        axdr.decode(bytes.fromhex("0203" "1101"))
    with pytest.raises(AxdrError) as info:
        axdr.decode(bytes.fromhex("07"))
    assert not isinstance(info.value, AxdrIncomplete)
    with pytest.raises(AxdrError):
        axdr.decode_all(bytes.fromhex("110102"))  # a byte after the value


def test_nesting_is_bounded() -> None:
    deep = bytes.fromhex("0201") * 50 + b"\x00"
    with pytest.raises(AxdrError):
        axdr.decode(deep)


def test_huge_element_count_does_not_allocate() -> None:
    # 2^32-1 elements announced, 3 bytes given: refused at once
    with pytest.raises(AxdrIncomplete):
        axdr.decode(bytes.fromhex("0184ffffffff000000"))


_scalars = st.one_of(
    st.integers(0, 0xFFFFFFFF).map(lambda v: axdr.number(Tag.UINT32, v)),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: axdr.number(Tag.INT64, v)),
    st.integers(-128, 127).map(lambda v: axdr.number(Tag.INT8, v)),
    st.integers(0, 255).map(lambda v: Data(Tag.ENUM, v, 1)),
    st.binary(max_size=300).map(axdr.octets),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(axdr.visible),
    st.floats(allow_nan=False).map(lambda v: axdr.number(Tag.FLOAT64, v)),
    st.just(axdr.null()),
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6).map(lambda xs: axdr.structure(*xs)),
        st.lists(children, max_size=6).map(lambda xs: axdr.array(*xs)),
    ),
    max_leaves=30,
)


@given(_values)
def test_round_trip(value: Data) -> None:
    assert axdr.decode_all(axdr.encode(value)) == value


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_axdr_errors(raw: bytes) -> None:
    with contextlib.suppress(AxdrError):
        axdr.decode(raw)


def test_cosem_date_time_with_and_without_deviation() -> None:
    zone = ZoneInfo("Europe/Zurich")
    # Kaifa: 2021-09-22 17:35:30, deviation -60 (UTC = local - 60 min... written as -60)
    moment = parse(bytes.fromhex("07e509160311231effffc400"), zone)
    assert moment is not None
    assert moment.isoformat() == "2021-09-22T18:35:30+02:00"
    # deviation not specified: local time of the zone
    local = parse(bytes.fromhex("07e30c1001073b28ff8000ff"), zone)
    assert local is not None
    assert local.utcoffset() is not None
    assert (local.hour, local.minute, local.second) == (7, 59, 40)
    assert parse(bytes.fromhex("ffffffffffffffffff8000ff"), zone) is None
    # our own encoding reads back to the same instant, summer and winter
    for text in ("2024-07-01T12:00:05+02:00", "2024-12-01T12:00:05+01:00"):
        when = datetime.fromisoformat(text).astimezone(zone)
        assert parse(encode(when), zone) == when
        stamp = CosemDateTime.from_datetime(when)
        assert stamp.deviation == -int(when.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
