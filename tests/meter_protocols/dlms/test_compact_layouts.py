"""Push layouts without OBIS codes, built from the operators' published orders, and the
rule that a frame with no known value is a problem, never an empty reading."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from meter_protocols.dlms import DlmsDecoder, cosem_time
from meter_protocols.dlms.apdu import build_notification
from meter_protocols.dlms.axdr import Data, Tag, array, number, octets, scaler_unit, structure
from meter_protocols.obis import Obis
from meter_protocols.readings import Problem, ProblemKind
from tests.meter_protocols.dlms.helpers import problems, readings

ZONE = ZoneInfo("Europe/Vienna")
WHEN = datetime(2025, 3, 4, 12, 30, 15, tzinfo=ZONE)
STAMP = octets(cosem_time.encode(WHEN))


def u32(n: int) -> Data:
    return number(Tag.UINT32, n)


def u16(n: int) -> Data:
    return number(Tag.UINT16, n)


def decode(body: Data, header: bytes = b"") -> list[object]:
    decoder = DlmsDecoder(framing="raw", zone=ZONE)
    return [*decoder.feed(build_notification(1, header, body)), *decoder.flush()]


WN = [u32(v) for v in (1465000, 12, 96027, 1216, 355, 0, 69, 4)]
WN_VALUES = {"1.8.0": 1465000, "2.8.0": 12, "3.8.0": 96027, "4.8.0": 1216, "1.7.0": 355,
             "2.7.0": 0, "3.7.0": 69, "4.7.0": 4}


@pytest.mark.parametrize(("head", "tail", "ident"), [
    ([], [], {}),
    ([octets(b"SMS1030700012345")], [], {"logical_name": "SMS1030700012345"}),
    ([], [octets(b"1ISK0012345678")], {"meter_id": "1ISK0012345678"}),
])
def test_wiener_netze_compact(head: list[Data], tail: list[Data],
                              ident: dict[str, str]) -> None:
    [reading] = readings(decode(structure(*head, STAMP, *WN, *tail)))  # type: ignore[arg-type]
    assert reading.layout == "wienernetze-compact"
    assert dict(reading.values) == WN_VALUES
    assert reading.meter_time == WHEN
    for field, value in ident.items():
        assert getattr(reading.identity, field) == value


def test_netz_burgenland_e450() -> None:
    values = [u16(231), u16(229), u16(233), u16(412), u16(95), u16(0),
              u32(1180), u32(0), u32(3190601), u32(1504100), u32(811), u32(92)]
    [reading] = readings(decode(structure(*values), cosem_time.encode(WHEN)))  # type: ignore[arg-type]
    assert reading.layout == "netzburgenland-e450"
    assert reading.values["32.7.0"] == 231 and reading.values["31.7.0"] == pytest.approx(4.12)
    assert reading.values["1.8.0"] == 3190601 and reading.values["4.8.0"] == 92
    assert reading.meter_time == WHEN
    [shorter] = readings(decode(structure(*values[:10])))  # type: ignore[arg-type]
    assert "3.8.0" not in shorter.values and shorter.values["2.8.0"] == 1504100


def test_slovenian_iskra_lists() -> None:
    head = [octets(b"ISK1030792283067"), octets(b"16820005")]
    list2 = [*head, u32(246), u32(0), u32(0), u32(286), u16(2321), u16(2305), u16(2330),
             u16(152), u16(40), u16(7), u32(120), u32(90), u32(36), u32(0), u32(0), u32(0)]
    [reading] = readings(decode(structure(*list2)))  # type: ignore[arg-type]
    assert reading.layout == "iskra-si-list2"
    assert reading.identity.logical_name == "ISK1030792283067"
    assert reading.identity.meter_id == "16820005"
    assert (reading.identity.vendor, reading.identity.prefix) == ("Iskraemeco", "ISK")
    assert reading.values["32.7.0"] == pytest.approx(232.1)
    assert reading.values["31.7.0"] == pytest.approx(1.52)
    assert reading.values["41.7.0"] == 90 and reading.values["4.7.0"] == 286
    list3 = [*head, STAMP, number(Tag.UINT8, 1), u32(5000), u32(3000), u32(2000),
             u32(700), u32(500), u32(200), u32(11), u32(22)]
    [quarter] = readings(decode(structure(*list3)))  # type: ignore[arg-type]
    assert quarter.layout == "iskra-si-list3"
    assert quarter.values["1.8.0"] == 5000 and quarter.values["1.8.2"] == 2000
    assert quarter.values["2.8.1"] == 500 and quarter.values["4.8.0"] == 22
    assert quarter.meter_time == WHEN


def test_a_structure_of_another_order_is_an_unknown_layout_named_by_its_bytes() -> None:
    body = structure(STAMP, *WN[:7])  # one value short of any published order
    [event] = decode(body)
    assert isinstance(event, Problem)
    assert event.kind is ProblemKind.UNKNOWN_LAYOUT
    assert "structure of 8" in event.detail and "0f 00 00 00 01" in event.detail
    assert event.data[:1] == b"\x0f"


def test_a_push_without_known_values_is_a_problem_not_an_empty_reading() -> None:
    body = structure(octets(Obis(0, 0, 42, 0, 0).to_bytes()), octets(b"KFM1200200701234"),
                     octets(Obis(0, 0, 96, 1, 0).to_bytes()), octets(b"1KFM0200701234"))
    events = decode(body)
    assert problems(events) == [ProblemKind.NO_KNOWN_VALUES]  # type: ignore[arg-type]
    assert readings(events) == []  # type: ignore[arg-type]
    assert "named-values" in events[0].detail  # type: ignore[attr-defined]


def test_an_extended_register_of_an_m_bus_channel_is_a_sub_meter() -> None:
    """0-1:24.2.1, class 4, as a push_object_list sends it: value, scaler_unit, capture
    time. It reaches the reading's M-Bus channel 1 and the objects."""
    gas, empty = Obis(0, 1, 24, 2, 1), Obis(0, 2, 24, 2, 1)
    entries = [(40, Obis(0, 0, 25, 9, 0), 2), (1, Obis(0, 1, 96, 1, 0), 2),
               (1, Obis(0, 2, 96, 1, 0), 2), (4, gas, 2), (4, gas, 3), (4, gas, 5),
               (4, empty, 2)]
    listing = array(*(structure(number(Tag.UINT16, c), octets(o.to_bytes()),
                                number(Tag.INT8, a), number(Tag.UINT16, 0))
                      for c, o, a in entries))
    body = structure(listing, octets(b"24521662"), octets(b"\x00"), u32(123456),
                     scaler_unit(-3, 14), STAMP, number(Tag.INT32, 0))
    [reading] = readings(decode(body))  # type: ignore[arg-type]
    assert reading.values == {}
    assert reading.identity.meter_id == ""  # 0-1:96.1.0 is the gas meter's id
    [channel] = reading.mbus  # channel 2 has no device: not reported
    assert channel.bus == 1
    assert channel.meter_id == "24521662"
    assert channel.value == pytest.approx(123.456)
    assert channel.unit == "m3"
    assert channel.captured_at == WHEN
    obj = next(o for o in reading.objects if o.logical_name == "0-1:24.2.1")
    assert (obj.class_id, obj.value, obj.scaler) == (4, 123456, -3)
