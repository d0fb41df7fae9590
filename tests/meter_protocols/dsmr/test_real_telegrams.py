"""Every real P1 telegram in ../shared/fixtures/real/dsmr decodes, and agrees with the
values its source asserts and with dsmr-parser reading the same bytes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dsmr_parser.objects import CosemObject, MbusDevice, MBusObject
from dsmr_parser.parsers import TelegramParser

from meter_protocols.dsmr import dialects
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.obis import to_base_unit
from meter_protocols.readings import FrameDecoded, MeterReading, Problem
from tests.conftest import REAL_FIXTURES, real_fixture

TELEGRAM_FILES = sorted((REAL_FIXTURES / "dsmr").glob("*/*.txt"))


def decode_file(path: Path) -> MeterReading:
    decoder = DsmrDecoder(ZoneInfo("Europe/Amsterdam"))
    events = decoder.feed(path.read_bytes()) + decoder.flush()
    frames = [e for e in events if isinstance(e, FrameDecoded)]
    assert len(frames) == 1, f"{path.name}: {events}"
    return frames[0].reading


def test_the_fixture_folder_is_there() -> None:
    real_fixture("dsmr")
    assert len(TELEGRAM_FILES) >= 20


@pytest.mark.parametrize("path", TELEGRAM_FILES, ids=lambda p: p.name)
def test_every_real_telegram_decodes(path: Path) -> None:
    reading = decode_file(path)
    assert reading.values or reading.lines
    # Every data line of the file is kept, named by the dialect table or not.
    text = path.read_text("latin-1")
    data_lines = [ln for ln in text.splitlines() if re.match(r"\d+-\d+:\d+\.\d+\.\d+", ln)]
    assert len(reading.lines) == len(data_lines)


_SHORT = re.compile(r"\\d-(?:\\d|\[1-9\]|0):(\d+)\\\.(\d+)\\\.(\d+)")


def _expected_numbers(name: str) -> list[tuple[str, str, Decimal, str]]:
    data = json.loads(real_fixture("dsmr", "dsmr_parser", f"{name}.expected.json").read_text())
    out = []
    for key, entry in data["expected"].items():
        obis, value, unit = entry.get("obis"), entry.get("value", ""), entry.get("unit", "")
        match = _SHORT.search(obis or "")
        number = re.fullmatch(r"Decimal\('([-0-9.]+)'\)", value or "")
        if match is None or number is None or "[" in key or "MBUS" in key or "GAS" in key:
            continue
        out.append((key, ".".join(match.groups()), Decimal(number.group(1)), unit.strip("'")))
    return out


EXPECTED = sorted(p.name.removesuffix(".expected.json")
                  for p in (REAL_FIXTURES / "dsmr" / "dsmr_parser").glob("*.expected.json"))


@pytest.mark.parametrize("name", EXPECTED)
def test_values_match_what_the_source_asserts(name: str) -> None:
    reading = decode_file(real_fixture("dsmr", "dsmr_parser", f"{name}.txt"))
    checked = 0
    for key, short, value, unit in _expected_numbers(name):
        if short not in reading.values:
            continue  # not an electricity value of the catalogue (thresholds, counters)
        expected = to_base_unit(float(value), unit)[0]
        assert reading.values[short] == pytest.approx(expected), (key, short)
        checked += 1
    assert checked >= 2, "the oracle compared too little to mean anything"


def test_timestamps_follow_the_dst_flag() -> None:
    reading = decode_file(real_fixture("dsmr", "dsmr_parser", "TELEGRAM_V5.txt"))
    # 0-0:1.0.0(170102192002W): winter, CET -> 18:20:02 UTC (what dsmr-parser asserts).
    assert reading.meter_time is not None
    assert reading.meter_time.astimezone(UTC) == datetime(2017, 1, 2, 18, 20, 2, tzinfo=UTC)


def test_identity_tariff_and_version_of_a_dsmr5_telegram() -> None:
    reading = decode_file(real_fixture("dsmr", "dsmr_parser", "TELEGRAM_V5.txt"))
    assert reading.protocol_version == "5.0"
    assert reading.tariff == 2
    assert reading.identity.model == "K8EG004046395507"  # hex-encoded equipment id
    assert reading.identity.prefix == "ISK"
    assert reading.identity.vendor == "Iskraemeco"


def test_mbus_channels_of_a_two_channel_telegram() -> None:
    reading = decode_file(real_fixture("dsmr", "dsmr_parser", "TELEGRAM_V5_TWO_MBUS.txt"))
    one, two = reading.mbus
    assert (one.bus, one.device_type, one.meter_id, one.value, one.unit) == (1, 3, "", 0.0, None)
    assert (two.bus, two.device_type, two.value, two.unit) == (2, 3, 246.138, "m3")
    assert two.meter_id == "G0039001936990619"  # hex-decoded equipment id
    assert two.captured_at is not None and two.captured_at.utcoffset() is not None


def test_misc_index_expectations() -> None:
    index = json.loads(real_fixture("dsmr", "misc", "index.json").read_text())
    for entry in index:
        reading = decode_file(real_fixture("dsmr", "misc", entry["file"]))
        expected = entry["expected"]
        if "1-0:1.8.0" in expected:
            kwh = float(expected["1-0:1.8.0"].split()[0])
            assert reading.values["1.8.0"] == pytest.approx(kwh * 1000)
        if "voltages_V" in expected:
            got = [reading.values[f"{c}.7.0"] for c in (32, 52, 72)]
            assert got == pytest.approx(expected["voltages_V"])
        if "phase_power_W" in expected:
            got = [reading.values[f"{c}.7.0"] for c in (21, 41, 61)]
            assert got == pytest.approx(expected["phase_power_W"])


@pytest.mark.parametrize("path", TELEGRAM_FILES, ids=lambda p: p.name)
def test_agrees_with_dsmr_parser_on_every_number(path: Path) -> None:
    raw = path.read_bytes()
    reading = decode_file(path)
    text = raw.decode("latin-1")
    if not text.rstrip("\x00").endswith("\n"):
        text += "\r\n"
    header = text.split("\n", 1)[0].rstrip("\r")
    first = {line.obis: (line.values[0] if line.values else "") for line in reading.lines}
    dialect = dialects.detect(header, first, "!\r\n" not in text)
    parsed = TelegramParser(dialect.spec, apply_checksum_validation=False).parse(text)
    compared = 0
    channels = {ch.bus: ch for ch in reading.mbus}
    devices = [item for _, item in parsed if isinstance(item, MbusDevice)]
    devices += [d for _, item in parsed if isinstance(item, list)
                for d in item if isinstance(d, MbusDevice)]
    for device in devices:
        for name, obj in device:
            if isinstance(obj, MBusObject) and isinstance(obj.value, Decimal):
                channel = channels[device.channel_id]
                assert channel.value == pytest.approx(float(obj.value)), name
                assert channel.unit == obj.unit
                compared += 1
    for name, obj in parsed:
        if not isinstance(obj, CosemObject) or not isinstance(obj.value, Decimal):
            continue
        short = ".".join(str(x) for x in _code_of(dialect.spec, name))
        if short not in reading.values:
            continue
        expected = to_base_unit(float(obj.value), obj.unit)[0]
        assert reading.values[short] == pytest.approx(expected), (name, short)
        compared += 1
    assert compared >= 1


def _code_of(spec: dict[str, object], name: str) -> tuple[str, ...]:
    for obj in spec["objects"]:  # type: ignore[attr-defined]
        if obj["value_name"] == name:
            match = _SHORT.search(obj["obis_reference"])
            if match:
                return match.groups()
    return ("?",)


def test_flipped_digit_is_rejected_and_never_becomes_a_reading() -> None:
    raw = real_fixture("dsmr", "dsmr_parser", "TELEGRAM_V5.txt").read_bytes()
    index = raw.index(b"1-0:1.8.1(") + len(b"1-0:1.8.1(000004.42")
    flipped = raw[:index] + (b"7" if raw[index:index + 1] != b"7" else b"8") + raw[index + 1:]
    events = DsmrDecoder().feed(flipped)
    assert len(events) == 1 and isinstance(events[0], Problem)
    assert events[0].kind.value == "bad_crc"


@pytest.mark.parametrize("path", TELEGRAM_FILES, ids=lambda p: p.name)
def test_the_crc_line_ends_a_telegram_without_cr_lf(path: Path) -> None:
    """Telegrams cut after "!XXXX" (the last before a pause, or split by a reader) decode at
    once, back to back, without waiting for a line end or the end of input."""
    raw = path.read_bytes().rstrip(b"\r\n")
    expected = decode_file(path)
    decoder = DsmrDecoder(ZoneInfo("Europe/Amsterdam"))
    events = decoder.feed(raw + raw)
    frames = [e.reading for e in events if isinstance(e, FrameDecoded)]
    has_crc = re.search(rb"![0-9A-Fa-f]{4}$", raw) is not None
    if has_crc:
        assert [e for e in events if isinstance(e, Problem)] == []
        assert len(frames) == 2
        assert frames[0].values == expected.values
    else:  # no CRC (DSMR 2.2/3, EasyMeter): a line end or the next "/" ends the first one
        assert frames
        assert frames[0].values == expected.values
