"""Every DLMS capture in shared/fixtures/real/dlms decodes to the values its source asserts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, axdr, cosem
from meter_protocols.dlms.apdu import parse_notification
from meter_protocols.dlms.hdlc import HdlcFrame, HdlcFramer
from meter_protocols.dlms.mapping import ReadingBuilder
from meter_protocols.dlms.scalers import ScalerResolver
from meter_protocols.dlms.security import decrypt, parse_ciphered
from meter_protocols.readings import MeterProtocol, MeterReading, ProblemKind
from tests.conftest import real_fixture
from tests.meter_protocols.dlms.helpers import problems, readings

ZONE = ZoneInfo("Europe/Zurich")

#: amshan's field names -> OBIS C.D.E of MeterReading.values
AMSHAN_VALUES = {
    "active_power_import": "1.7.0", "active_power_export": "2.7.0",
    "reactive_power_import": "3.7.0", "reactive_power_export": "4.7.0",
    "current_l1": "31.7.0", "current_l2": "51.7.0", "current_l3": "71.7.0",
    "voltage_l1": "32.7.0", "voltage_l2": "52.7.0", "voltage_l3": "72.7.0",
    "active_power_import_total": "1.8.0", "active_power_export_total": "2.8.0",
    "reactive_power_import_total": "3.8.0", "reactive_power_export_total": "4.8.0",
    **{f"active_power_import_l{n}": f"{20 * n + 1}.7.0" for n in (1, 2, 3)},
    **{f"active_power_export_l{n}": f"{20 * n + 2}.7.0" for n in (1, 2, 3)},
    **{f"reactive_power_import_l{n}": f"{20 * n + 3}.7.0" for n in (1, 2, 3)},
    **{f"reactive_power_export_l{n}": f"{20 * n + 4}.7.0" for n in (1, 2, 3)},
}
#: Fields the frame itself cannot tell: amshan knew the vendor from which parser it called.
#: Aidon's list 1 and Swedish list carry neither a list version nor a meter id.
NOT_IN_FRAME = {("aidon", "NOTIFICATION_BODY_NO_LIST_1"), ("aidon", "no_list_1"),
                ("aidon", "NOTIFICATION_BODY_SE_LIST"), ("aidon", "se_list")}


def _amshan() -> list[dict[str, Any]]:
    path = real_fixture("dlms", "amshan", "amshan_frames.json")
    records: list[dict[str, Any]] = json.loads(path.read_text())["records"]
    return records


def _records(kind_prefix: str) -> list[Any]:
    try:
        records = _amshan()
    except pytest.skip.Exception:
        return [pytest.param(None, id="fixtures-missing")]
    return [pytest.param(r, id=f"{r['module']}-{r['name']}") for r in records
            if r["kind"].startswith(kind_prefix)]


def _expected_time(text: str) -> datetime:
    numbers = [int(n) for n in re.findall(r"-?\d+", text.split("tzinfo", maxsplit=1)[0])]
    moment = datetime(*numbers[:6])
    if "timezone.utc" in text:
        return moment.replace(tzinfo=UTC)
    hours = re.search(r"timedelta\(hours=(-?\d+)\)", text)
    if hours:
        return moment.replace(tzinfo=timezone(timedelta(hours=int(hours.group(1)))))
    return moment.replace(tzinfo=ZONE)  # naive in the source: the meter's local time


def _check(reading: MeterReading, record: dict[str, Any], *, header_time: bool) -> int:
    checked = 0
    for field, text in record["expected_decoded"].items():
        if field in AMSHAN_VALUES:
            assert reading.values[AMSHAN_VALUES[field]] == pytest.approx(float(text)), field
        elif field == "meter_id":
            assert reading.identity.meter_id == json.loads(text)
        elif field == "meter_type":
            assert reading.identity.model == json.loads(text)
        elif field == "list_ver_id":
            assert json.loads(text) in reading.texts.values()
        elif field == "meter_manufacturer":
            if (record["module"], record["name"]) in NOT_IN_FRAME:
                assert reading.identity.vendor == ""
            else:
                assert reading.identity.vendor == json.loads(text)
        elif field == "meter_datetime":
            if not header_time and reading.meter_time is None:
                continue  # the body alone: the date-time was in the APDU header
            assert reading.meter_time == _expected_time(text)
        else:
            pytest.fail(f"unmapped expected field {field}")
        checked += 1
    return checked


@pytest.mark.parametrize("record", _records("apdu_or_body"))
def test_amshan_apdus_and_bodies(record: dict[str, Any] | None) -> None:
    if record is None:
        real_fixture("dlms", "amshan", "amshan_frames.json")
        return
    raw = bytes.fromhex(record["hex"].replace(" ", ""))
    if record["name"].startswith("NOTIFICATION_BODY"):
        content = cosem.extract(axdr.decode_all(raw))
        assert content is not None
        reading = ReadingBuilder(ScalerResolver(), ZONE).build(content)
        header_time = False
    else:
        decoder = DlmsDecoder(framing="raw", zone=ZONE)
        events = decoder.feed(raw) + decoder.flush()
        assert problems(events) == []
        [reading] = readings(events)
        header_time = True
        # auto framing finds the same frame in a stream of line noise
        auto = DlmsDecoder(zone=ZONE)
        auto_events = auto.feed(b"\x00\x13\x37" + raw) + auto.flush()
        assert readings(auto_events)[0].values == reading.values
    assert reading.protocol is MeterProtocol.DLMS
    assert _check(reading, record, header_time=header_time) >= 1


HDLC_INFO_VALUES = {
    "FRAME_WITH_ESCAPE_CHARACTER_IN_INFO": {"1.7.0": 0x067D},
    "FRAME_WITH_FLAG_SEQUENCE_CHARACTER_IN_INFO": {"1.7.0": 0x157E},
}


@pytest.mark.parametrize("record", _records("hdlc"))
def test_amshan_hdlc_frames(record: dict[str, Any] | None) -> None:
    if record is None:
        real_fixture("dlms", "amshan", "amshan_frames.json")
        return
    raw = b"\x7e" + bytes.fromhex(record["hex"]) + b"\x7e"
    # byte by byte: the framer must wait for the length, not stop at a 0x7E inside
    framer = HdlcFramer()
    frames = [f for b in raw for f in framer.feed(bytes((b,)))]
    assert len(frames) == 1, frames
    assert isinstance(frames[0], HdlcFrame), frames
    expected = HDLC_INFO_VALUES.get(record["name"])
    decoder = DlmsDecoder(framing="hdlc", zone=ZONE)
    events = decoder.feed(raw)
    if expected is not None:
        [reading] = readings(events)
        assert dict(reading.values) == expected
    if record["name"] == "STUFFED_FRAME_SHORT_INFO":
        assert frames[0].stuffed
        assert frames[0].info == b"\x7e\x7d\x03"


def _smarty() -> dict[str, Any]:
    path = real_fixture("dlms", "smarty_lu", "nexxtlab_smarty_vector.json")
    vector: dict[str, Any] = json.loads(path.read_text())[0]
    return vector


def test_smarty_decrypts_to_its_dsmr_telegram() -> None:
    vector = _smarty()
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(vector["key"], vector["ak"]), zone=ZONE)
    [reading] = readings(decoder.feed(bytes.fromhex(vector["hex"])))
    assert reading.protocol is MeterProtocol.DSMR
    assert reading.values["1.8.0"] == pytest.approx(6695.0)  # 6.695 kWh
    assert reading.values["2.8.0"] == pytest.approx(25.0)
    assert reading.meter_time == datetime(2018, 1, 30, 9, 21, 22, tzinfo=UTC)
    assert reading.texts["42.0.0"] == bytes.fromhex(
        vector["expected"]["0-0:42.0.0"]).decode()
    assert decoder.security.encrypted
    assert decoder.security.authenticated
    assert decoder.security.verified
    assert decoder.security.system_title == bytes.fromhex("534147677001BD54")


def test_smarty_without_authentication_key_still_decrypts() -> None:
    vector = _smarty()
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(vector["key"]))
    [reading] = readings(decoder.feed(bytes.fromhex(vector["hex"])))
    assert reading.values["1.8.0"] == pytest.approx(6695.0)
    assert not decoder.security.verified


@pytest.mark.parametrize("with_ak", [True, False])
def test_smarty_wrong_key_fails_and_gives_no_reading(with_ak: bool) -> None:
    vector = _smarty()
    wrong = vector["negative_cases"]["wrong_key"][:32]
    keys = DlmsKeys.from_hex(wrong, vector["ak"] if with_ak else "")
    decoder = DlmsDecoder(keys=keys)
    events = decoder.feed(bytes.fromhex(vector["hex"]))
    assert readings(events) == []
    assert problems(events) == [ProblemKind.DECRYPTION_FAILED]
    assert decoder.counters[ProblemKind.DECRYPTION_FAILED] == 1


def test_smarty_without_key_requires_one() -> None:
    vector = _smarty()
    decoder = DlmsDecoder()
    events = decoder.feed(bytes.fromhex(vector["hex"]))
    assert readings(events) == []
    assert problems(events) == [ProblemKind.KEY_REQUIRED]
    assert decoder.security.ciphered
    assert decoder.security.encrypted
    # the key arrives through the settings: the next frame decodes, no restart
    decoder.set_keys(DlmsKeys.from_hex(vector["key"], vector["ak"]))
    assert len(readings(decoder.feed(bytes.fromhex(vector["hex"])))) == 1


def test_dlms_cosem_glo_ciphering_vector() -> None:
    path = real_fixture("dlms", "dlms_cosem", "gen_glo_cipher.json")
    vector = json.loads(path.read_text())[0]
    envelope = parse_ciphered(bytes.fromhex(vector["hex"]))
    assert envelope.system_title.hex().upper() == vector["expected"]["system_title"]
    plain, verified = decrypt(envelope, DlmsKeys.from_hex(vector["key"], vector["ak"]))
    assert verified
    notification = parse_notification(plain)  # DataNotification
    assert notification.invoke_id == 0x1DB
    assert notification.body.tag == axdr.Tag.OCTET_STRING
    # the body is an opaque octet string: no push layout, reported, not a reading
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(vector["key"], vector["ak"]))
    events = decoder.feed(bytes.fromhex(vector["hex"]))
    assert problems(events) == [ProblemKind.UNKNOWN_LAYOUT]
    assert decoder.security.verified
