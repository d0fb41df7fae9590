"""The real and documented KMP vectors (shared/fixtures/real/kmp) are the oracle.

Each record is checked by the fields it has; the last test makes sure no record goes
unchecked when the fixture grows.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from meter_protocols.kmp import codec
from meter_protocols.kmp.commands import (
    Command,
    get_register_request,
    get_serial_request,
    get_type_request,
    parse_register_request,
    parse_registers,
    parse_serial,
    parse_type,
    type_response,
)
from meter_protocols.kmp.framer import KmpFramer
from meter_protocols.kmp.values import encode_value, unit
from tests.conftest import real_fixture


def _records() -> list[dict[str, Any]]:
    path = real_fixture("kmp", "kmp_frames.json")
    records: list[dict[str, Any]] = json.loads(path.read_text())["records"]
    return records


def _one(predicate: str) -> dict[str, Any]:
    matches = [r for r in _records() if predicate in r["origin"]]
    assert len(matches) == 1, predicate
    return matches[0]


def _message(raw: bytes) -> codec.Message:
    items = KmpFramer().feed(raw)
    assert len(items) == 1
    message = items[0]
    assert isinstance(message, codec.Message), message
    return message


def test_real_multical_clock_register_pair() -> None:
    record = _one("real MULTICAL 403 capture")
    expected = record["expected"]
    request = bytes.fromhex(record["request_hex"])
    assert get_register_request([expected["register_id"]]) == request
    assert parse_register_request(_message(request).data) == (expected["register_id"],)

    answer = _message(bytes.fromhex(record["response_hex"]))
    assert (answer.direction, answer.address, answer.cid) == (
        codec.Direction.RESPONSE, codec.METER_ADDRESS, Command.GET_REGISTER)
    values = parse_registers(answer.data)
    assert values is not None
    assert len(values) == 1
    value = values[0]
    assert value.register == expected["register_id"]
    assert value.unit == expected["unit_code"]
    assert unit(value.unit).name == expected["unit"]
    assert value.mantissa.hex().upper() == expected["value_raw"][4:]
    assert value.to_bytes().hex().upper()[4:] == "2F" + expected["value_raw"]
    assert value.value == expected["value"]
    assert expected["crc_ok"] is True
    assert record["response_hex"][-6:-2] == expected["crc_given"]


def test_real_multical_decoded_values_round_trip() -> None:
    """No raw bytes in this record: the request for its registers must be well formed, and
    each documented reading must survive our value codec exactly, digits included."""
    record = _one("real MULTICAL 403 decoded output")
    registers = record["request_registers"]
    request = _message(get_register_request(registers))
    assert request.direction is codec.Direction.REQUEST
    assert parse_register_request(request.data) == tuple(registers)
    unit_codes = {"GJ": 8, "m3": 40, "kW": 22, "l/h": 41, "C": 37, "Wh": 1}
    for register, text in record["expected"].items():
        number, name = text.split()
        exact = Decimal(number)
        exponent = exact.as_tuple().exponent
        assert isinstance(exponent, int)
        value = encode_value(int(register), unit_codes[name], exact, exponent)
        decoded = parse_registers(value.to_bytes())
        assert decoded is not None
        assert decoded[0].text() == text


def test_documented_register_answer_with_stuffing() -> None:
    record = _one("6.2.4 example")
    expected = record["expected"]
    raw = bytes.fromhex(record["response_hex"])
    assert codec.unstuff(raw[1:-1]) == bytes.fromhex(expected["destuffed_datalink"])
    answer = _message(raw)
    values = parse_registers(answer.data)
    assert values is not None
    assert len(values) == 1
    value = values[0]
    assert (value.register, value.unit, len(value.mantissa), value.sign_exponent) == (
        expected["register_id"], expected["unit_code"], expected["length"], expected["si_ex"])
    assert value.mantissa.hex().upper() == expected["value_raw"]
    # 0x11: mantissa positive, exponent positive (bit 6 clear), magnitude 17.
    assert value.exponent == 17
    assert value.value == Decimal(0x012AF024) * Decimal(10) ** 17
    assert expected["destuffed_datalink"].endswith(expected["crc"])
    # Our encoder builds the same frame from the value.
    assert codec.encode_response(Command.GET_REGISTER, value.to_bytes()) == raw


def test_documented_register_request_with_stuffing() -> None:
    record = _one("6.2.4 GetRegister request")
    expected = record["expected"]
    raw = bytes.fromhex(record["request_hex"])
    assert get_register_request(expected["register_ids"]) == raw
    assert codec.unstuff(raw[1:-1]) == bytes.fromhex(expected["datalink"])


def test_documented_get_serial_no() -> None:
    record = _one("6.2.2 GetSerialNo")
    assert get_serial_request() == bytes.fromhex(record["request_hex"])
    answer = _message(bytes.fromhex(record["response_hex"]))
    assert answer.cid == Command.GET_SERIAL_NO
    assert answer.data.hex().upper() == record["expected"]["serial_raw"]
    assert parse_serial(answer.data) == record["expected"]["serial"]


def test_documented_get_type() -> None:
    record = _one("6.2.1 GetType")
    assert get_type_request() == bytes.fromhex(record["request_hex"])
    datalink = bytes.fromhex(record["response_datalink_hex"])
    answer = codec.decode_datalink(codec.Direction.RESPONSE, datalink)
    assert isinstance(answer, codec.Message)
    meter_type = parse_type(answer.data)
    assert meter_type is not None
    assert meter_type.type_code.to_bytes(2, "big").hex() == record["expected"]["meter_type_bytes"]
    assert meter_type.revision_text == record["expected"]["sw_revision"]
    # The meter side of our codec produces exactly this message.
    frame = type_response(meter_type)
    assert codec.unstuff(frame[1:-1]) == datalink


def test_documented_stuffing_example() -> None:
    record = _one("3.1 stuffing")
    datalink = bytes.fromhex(record["datalink_hex"])
    physical = bytes.fromhex(record["physical_hex"])
    assert bytes((codec.Direction.REQUEST,)) + codec.stuff(datalink) + b"\x0d" == physical
    assert codec.unstuff(physical[1:-1]) == datalink


@pytest.mark.parametrize("index", range(7))
def test_every_record_is_covered(index: int) -> None:
    records = _records()
    assert len(records) == 7, "kmp_frames.json changed: add a test for the new record"
    checked = ("real MULTICAL 403 capture", "real MULTICAL 403 decoded output", "6.2.4 example",
               "6.2.4 GetRegister request", "6.2.2 GetSerialNo", "6.2.1 GetType",
               "3.1 stuffing")
    assert sum(key in records[index]["origin"] for key in checked) == 1

