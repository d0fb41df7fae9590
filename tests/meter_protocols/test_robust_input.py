"""Issue 10, meter side: no input makes a decoder raise; each known cause is handled where
it arises, and the boundary guard (meter_protocols.guard) never has to step in for them.

Each test names the mechanism it pins; the inputs are the smallest that trigger it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from meter_protocols.detect.evidence import analyse
from meter_protocols.detect.sniff import sniff, sniff_apdu
from meter_protocols.dlms import DlmsDecoder, axdr, cosem_time, hdlc, mbus
from meter_protocols.dlms.apdu import build_notification
from meter_protocols.dlms.axdr import AxdrError, Data, Tag
from meter_protocols.dsmr.decoder import DsmrDecoder, crc16
from meter_protocols.kmp import commands, values
from meter_protocols.kmp.poller import KmpPoller
from meter_protocols.line import LineSettings
from meter_protocols.obis import Obis
from meter_protocols.readings import Event, FrameDecoded, MeterReading, Problem, ProblemKind
from tests.meter_protocols.work import lines_executed

ZURICH = ZoneInfo("Europe/Zurich")


def _telegram(*lines: str) -> bytes:
    """A P1 telegram with a right CRC, written in latin-1 (what the decoder reads)."""
    text = "/ESR5\r\n\r\n" + "".join(line + "\r\n" for line in lines) + "!"
    return (text + f"{crc16(text):04X}\r\n").encode("latin-1")


def _only_reading(events: list[Event]) -> MeterReading:
    faults = [e for e in events if isinstance(e, Problem) and e.kind is ProblemKind.DECODER_FAULT]
    assert not faults, faults
    readings = [e.reading for e in events if isinstance(e, FrameDecoded)]
    assert len(readings) == 1, events
    return readings[0]


def _kinds(events: list[Event]) -> list[ProblemKind]:
    return [e.kind for e in events if isinstance(e, Problem)]


# --- DSMR: numbers from text -------------------------------------------------------------


@pytest.mark.parametrize("tariff", ["²", "¹0", "1" * 5000])
def test_dsmr_tariff_that_is_no_ascii_number_gives_no_tariff(tariff: str) -> None:
    # str.isdigit() accepts "²"; int() refuses it, and any text over 4300 digits
    tel = _telegram(f"0-0:96.14.0({tariff})", "1-0:1.8.1(000001.000*kWh)")
    reading = _only_reading(DsmrDecoder(ZURICH).feed(tel))
    assert reading.tariff is None
    assert reading.values == {"1.8.1": 1000.0}


def test_dsmr_mbus_device_type_that_is_no_ascii_number_is_left_out() -> None:
    tel = _telegram("0-1:24.1.0(³)", "0-1:24.2.1(240101000000W)(00012.345*m3)",
                    "1-0:1.8.1(000001.000*kWh)")
    reading = _only_reading(DsmrDecoder(ZURICH).feed(tel))
    assert reading.mbus[0].device_type is None
    assert reading.mbus[0].value == 12.345


def test_dsmr_value_beyond_a_float_is_not_a_value() -> None:
    tel = _telegram("1-0:1.8.1(" + "9" * 400 + "*kWh)", "1-0:1.8.2(000002.000*kWh)")
    reading = _only_reading(DsmrDecoder(ZURICH).feed(tel))
    assert reading.values == {"1.8.2": 2000.0}  # 1e400 kWh is inf: dropped, the line kept
    assert len(reading.lines) == 2


# --- DLMS: empty APDUs -------------------------------------------------------------------

_EMPTY_GBT = bytes((0xE0, 0xC0, 0x00, 0x01, 0x00, 0x00, 0x00))  # last block 1, no data


def test_empty_gbt_transfer_in_hdlc_is_a_problem() -> None:
    frame = hdlc.build_frame(b"\xe6\xe7\x00" + _EMPTY_GBT, dest=b"\x41", src=b"\x03",
                             control=0x13)
    events = DlmsDecoder(framing="hdlc").feed(frame)
    assert _kinds(events) == [ProblemKind.MALFORMED]


def test_empty_gbt_transfer_in_mbus_is_a_problem() -> None:
    events = DlmsDecoder(framing="mbus").feed(mbus.build_frames(_EMPTY_GBT))
    assert _kinds(events) == [ProblemKind.MALFORMED]


@pytest.mark.parametrize("security_control", [0x00, 0x10])
def test_ciphered_apdu_without_content_is_a_problem(security_control: int) -> None:
    tag = bytes(12) if security_control & 0x10 else b""
    content = bytes((security_control,)) + b"\x00\x00\x00\x01" + tag
    apdu = b"\xdb\x08" + b"ABCDEFGH" + bytes((len(content),)) + content
    events = DlmsDecoder(framing="raw").feed(apdu)
    assert _kinds(events) == [ProblemKind.MALFORMED]


# --- DLMS: values and times --------------------------------------------------------------

def _named(*pairs: tuple[str, Data]) -> Data:
    flat: list[Data] = []
    for ln, value in pairs:
        flat += [axdr.octets(Obis.parse(ln).to_bytes()), value]
    return axdr.structure(*flat)


_ENERGY = ("1-0:1.8.0", axdr.number(Tag.UINT32, 5))


def test_dlms_tariff_text_with_thousands_of_digits_gives_no_tariff() -> None:
    body = _named(("0-0:96.14.0", axdr.visible("RATE" + "1" * 5000)), _ENERGY)
    events = DlmsDecoder(framing="raw").feed(build_notification(1, b"", body))
    reading = _only_reading(events)
    assert reading.tariff is None
    assert reading.values == {"1.8.0": 5.0}


@pytest.mark.parametrize("moment", [(1, 1, 1, 0, 0, 0, 0, -60, 0),
                                    (9999, 12, 31, 23, 59, 0, 0, 840, 0)])
def test_cosem_time_at_the_ends_of_the_calendar_names_no_instant(
        moment: tuple[int, ...]) -> None:
    raw = cosem_time.CosemDateTime(*moment).to_bytes()
    assert cosem_time.parse(raw, ZURICH) is None
    events = DlmsDecoder(framing="raw").feed(build_notification(1, raw, _named(_ENERGY)))
    assert _only_reading(events).meter_time is None


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_dlms_non_finite_register_is_not_a_value(value: float) -> None:
    body = _named(("1-0:1.7.0", axdr.number(Tag.FLOAT64, value)), _ENERGY)
    reading = _only_reading(DlmsDecoder(framing="raw").feed(build_notification(1, b"", body)))
    assert reading.values == {"1.8.0": 5.0}
    shown = {o.logical_name: o.value for o in reading.objects}
    assert shown["1-0:1.7.0"] is None  # JSON has no inf or NaN


def test_compact_array_of_nested_empty_values_costs_work_in_proportion_to_its_bytes() -> None:
    # a structure {array(12) of array(12) of array(12) of null} takes no byte at all, so
    # the compact array's loop decodes 13 such items (13^4 values) before it gives up;
    # nested deeper, the same 30 bytes would keep the decoder busy for hours.
    desc = bytes((Tag.STRUCTURE, 1)) + bytes((Tag.ARRAY, 0, 12)) * 3 + bytes((Tag.NULL,))
    contents = bytes(12)
    raw = bytes((Tag.COMPACT_ARRAY,)) + desc + bytes((len(contents),)) + contents

    def decode() -> None:
        with pytest.raises(AxdrError):
            axdr.decode_all(raw)

    assert lines_executed(decode) < 200 * len(raw)


# --- KMP: register values --------------------------------------------------------------

def test_kmp_register_value_beyond_a_float_is_not_a_value() -> None:
    poller = KmpPoller(registers=(0x0001, 0x0002), start=0.0, gap=0.0)
    assert poller.poll(0.0)  # GetType
    poller.feed(commands.type_response(commands.MeterType(0x0684, 0x0601)), 0.0)
    assert poller.poll(0.0)  # GetSerialNo
    poller.feed(commands.serial_response(1234), 0.0)
    assert poller.poll(0.0)  # GetRegister
    huge = values.RegisterValue(0x0001, values.KWH, 0x3F, b"\xff" * 200)  # ~1e543 kWh
    fine = values.encode_value(0x0002, values.KWH, 3, -2)
    events = poller.feed(commands.register_response([huge, fine]), 0.0)
    assert _only_reading(events).values == {"2.8.0": 3000.0}


# --- detection: sniffing and evidence --------------------------------------------------

def test_sniffing_a_ciphered_header_cut_short_does_not_raise() -> None:
    # DB 08 <title> then a long-form length whose security byte lies past the end
    data = b"\xdb\x08" + b"ABCDEFGH" + b"\x85" + b"\x00" * 4
    assert sniff_apdu(data) == 0.0
    assert sniff(data).apdu == 0.0


def test_evidence_with_flags_of_another_length_does_not_raise() -> None:
    data = bytes(range(64))
    evidence = analyse(data, b"\x01" * 10, LineSettings())
    assert evidence.text


# --- the net under all of this (meter_protocols.guard) -------------------------------------

def test_an_unforeseen_fault_becomes_a_problem_and_the_next_frame_decodes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from meter_protocols.dlms import cosem  # noqa: PLC0415 - patched below

    real = cosem.extract
    calls = iter([IndexError("a bug nobody found yet")])

    def flaky(body: Data) -> object:
        for exc in calls:
            raise exc
        return real(body)

    monkeypatch.setattr("meter_protocols.dlms.decoder.cosem.extract", flaky)
    decoder = DlmsDecoder(framing="raw")
    frame = build_notification(1, b"", _named(_ENERGY))
    first = decoder.feed(frame)
    assert _kinds(first) == [ProblemKind.DECODER_FAULT]
    assert "IndexError" in first[0].detail  # type: ignore[union-attr]
    assert _only_reading(decoder.feed(frame)).values == {"1.8.0": 5.0}


def test_an_unforeseen_fault_in_a_telegram_spares_the_next_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    decoder = DsmrDecoder(ZURICH)
    tel = _telegram("1-0:1.8.1(000001.000*kWh)")
    real = decoder._reading
    calls = iter([ValueError("a bug nobody found yet")])

    def flaky(*args: object) -> MeterReading:
        for exc in calls:
            raise exc
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(decoder, "_reading", flaky)
    events = decoder.feed(tel + tel)
    assert _kinds(events) == [ProblemKind.DECODER_FAULT]
    assert len([e for e in events if isinstance(e, FrameDecoded)]) == 1


# --- length fields -----------------------------------------------------------------------

def test_raw_ciphered_apdu_split_over_two_reads_waits_for_its_stated_length() -> None:
    # A raw APDU that states its length (ciphered, GBT) was cut at the first read and
    # reported truncated; the rest then read as garbage.
    from meter_protocols.dlms import DlmsKeys, security  # noqa: PLC0415

    keys = DlmsKeys.from_hex("000102030405060708090A0B0C0D0E0F")
    plain = build_notification(1, b"", _named(_ENERGY))
    apdu = security.encrypt(plain, system_title=b"ABCDEFGH", invocation_counter=7,
                            security_control=0x20, keys=keys)
    decoder = DlmsDecoder(keys=keys, framing="raw")
    events = decoder.feed(apdu[:20]) + decoder.feed(apdu[20:])
    assert _only_reading(events).values == {"1.8.0": 5.0}
    assert not _kinds(events)


def test_raw_apdu_stating_more_than_any_apdu_is_skipped_not_awaited() -> None:
    lie = b"\xdb\x08ABCDEFGH\x84\x7f\xff\xff\xff"  # 2 GB of ciphered content
    frame = build_notification(1, b"", _named(_ENERGY))
    events = DlmsDecoder(framing="raw").feed(lie + frame)
    assert _only_reading(events).values == {"1.8.0": 5.0}
