"""GetType, GetSerialNo and GetRegister: requests and answers, both ends."""

from __future__ import annotations

import pytest

from meter_protocols.errors import ProtocolError
from meter_protocols.kmp import codec
from meter_protocols.kmp import commands as c
from meter_protocols.kmp.values import encode_value


def _data(frame: bytes) -> bytes:
    message = codec.decode_frame(frame)
    assert isinstance(message, codec.Message)
    return message.data


def test_get_register_request_layout() -> None:
    raw = c.get_register_request([0x0001, 0x041E])
    message = codec.decode_frame(raw)
    assert isinstance(message, codec.Message)
    assert (message.direction, message.address, message.cid) == (
        codec.Direction.REQUEST, 0x3F, c.Command.GET_REGISTER)
    assert message.data == bytes.fromhex("02 0001 041E")
    assert c.parse_register_request(message.data) == (0x0001, 0x041E)


def test_get_register_request_limits() -> None:
    assert c.parse_register_request(_data(c.get_register_request(range(1, 9)))) == tuple(
        range(1, 9))
    for bad in ([], list(range(9)), [0x10000], [-1]):
        with pytest.raises(ProtocolError):
            c.get_register_request(bad)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x09" + b"\x00\x01" * 9, b"\x02\x00\x01",
                                  b"\x01\x00\x01\x00"])
def test_malformed_register_requests_are_refused(data: bytes) -> None:
    assert c.parse_register_request(data) is None


def test_type_and_serial_answers() -> None:
    meter_type = c.MeterType(0x0684, 0x0203)
    assert c.parse_type(_data(c.type_response(meter_type))) == meter_type
    assert meter_type.revision_text == "B3"
    assert meter_type.model == "OMNIPOWER"
    assert c.MeterType(0x0004, 0x0601).model == "KMP type 0004"
    assert c.MeterType(0x0004, 0x1B01).revision_text == "27.1"
    assert c.parse_serial(_data(c.serial_response(70312845))) == 70312845
    assert c.parse_type(b"\x00\x04\x06") is None
    assert c.parse_serial(b"\x01\x02\x03") is None
    with pytest.raises(ProtocolError):
        c.serial_response(2**32)


def test_register_answer_round_trip() -> None:
    values = [encode_value(0x0001, 2, 1234.5, -2), encode_value(0x041E, 33, 230.1, -1)]
    assert c.parse_registers(_data(c.register_response(values))) == tuple(values)
    assert c.parse_registers(_data(c.register_response([]))) == ()
