"""Real Austrian captures (shared/fixtures/real/dlms) decode to the values their records
state: Netz NÖ Kaifa MA309M and Sagemcom T210-D (L mod 256), the Netz NÖ document example,
the suite-1 (0x21) Kaifa APDU, and the Vorarlberg capture whose key is withheld."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, security
from meter_protocols.dlms.apdu import build_notification
from meter_protocols.dlms.axdr import Tag, number, structure
from meter_protocols.readings import MeterReading, Problem, ProblemKind
from tests.conftest import real_fixture
from tests.meter_protocols.dlms.helpers import problems, readings

ZONE = ZoneInfo("Europe/Vienna")
FILES = (("esp_smartmeter_netznoe", "netz_noe_vkw_captures.json"),
         ("dlms_cosem_rs", "kaifa_apdus.json"),
         ("smartmeter_evn_postgresql", "netz_noe_spec_example.json"))


def _records() -> list[Any]:
    out = []
    for folder, name in FILES:
        try:
            path = real_fixture("dlms", folder, name)
        except pytest.skip.Exception:
            return [pytest.param(None, id="fixtures-missing")]
        out += [pytest.param(r, id=r["name"]) for r in json.loads(path.read_text())]
    return out


def _wire(record: dict[str, Any]) -> bytes:
    hexes = record["hex"] if isinstance(record["hex"], list) else [record["hex"]]
    return b"".join(bytes.fromhex(h) for h in hexes)


def _expected_time(text: str) -> datetime:
    stamp = datetime.fromisoformat(text.split(maxsplit=1)[0].rstrip(","))
    deviation = int(re.search(r"deviation (-?\d+) min", text).group(1))  # type: ignore[union-attr]
    # COSEM: UTC = local + deviation minutes
    return stamp.replace(tzinfo=timezone(timedelta(minutes=-deviation)))


def check(reading: MeterReading, expected: dict[str, str]) -> int:
    checked = 0
    for key, text in expected.items():
        if key == "1.0.0":
            assert reading.meter_time == _expected_time(text)
        elif key == "96.1.0":
            assert reading.identity.meter_id == text.split()[0]
        elif key == "42.0.0":
            assert reading.identity.logical_name == text
        elif re.fullmatch(r"\d+\.\d+\.\d+", key):
            assert reading.values[key] == pytest.approx(float(text.split()[0])), key
        else:
            continue
        checked += 1
    return checked


@pytest.mark.parametrize("record", _records())
def test_every_capture_with_a_key_decodes_to_its_records_values(
        record: dict[str, Any] | None) -> None:
    if record is None:
        real_fixture("dlms", *FILES[0])
        return
    key = record["encryption_key"]
    expected: dict[str, str] = record.get("decoded_here") or record["expected"]
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(key or ""), zone=ZONE)
    events = decoder.feed(_wire(record)) + decoder.flush()
    if key is None and record.get("ciphered_apdu_hex"):
        assert problems(events) == [ProblemKind.KEY_REQUIRED]
        assert readings(events) == []
        return
    assert problems(events) == []
    [reading] = readings(events)
    assert check(reading, expected) == len([k for k in expected if "." in k])
    if record.get("security_control"):
        assert decoder.security.security_control == int(record["security_control"], 16)
        assert decoder.security.encrypted and not decoder.security.authenticated


@pytest.mark.parametrize("record", _records())
def test_byte_by_byte_the_same(record: dict[str, Any] | None) -> None:
    """The L-mod-256 frame and the 3-byte ciphered lengths survive any chunking."""
    if record is None or not record["encryption_key"]:
        return
    keys = DlmsKeys.from_hex(record["encryption_key"])
    whole = readings(DlmsDecoder(keys=keys, zone=ZONE).feed(_wire(record)))
    decoder = DlmsDecoder(keys=keys, zone=ZONE)
    events = [e for b in _wire(record) for e in decoder.feed(bytes((b,)))] + decoder.flush()
    assert [r.values for r in readings(events)] == [r.values for r in whole]
    assert problems(events) == []


def _record(name: str) -> dict[str, Any]:
    for folder, file in FILES:
        for record in json.loads(real_fixture("dlms", folder, file).read_text()):
            if record["name"] == name:
                return dict(record)
    raise AssertionError(name)


def test_netz_noe_layout_has_its_clock_and_meter_number() -> None:
    record = _record("netz_noe_sagemcom_t210d_real")
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(record["encryption_key"]), zone=ZONE)
    [reading] = readings(decoder.feed(_wire(record)))
    assert reading.layout == decoder.layout == "netznoe"
    assert reading.identity.meter_id == "178210431186"
    assert (reading.identity.vendor, reading.identity.prefix) == ("Sagemcom", "SAG")
    names = [o.logical_name for o in reading.objects]
    assert names[0] == "0-0:1.0.0" and names[-1] == "0-0:96.1.0"


def test_sagemcom_first_frame_declares_length_mod_256() -> None:
    record = _record("netz_noe_sagemcom_t210d_real")
    first = bytes.fromhex(record["hex"][0])
    assert first[1] == 0x01 and len(first) == 257 + 6
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(record["encryption_key"]), framing="mbus")
    assert len(readings(decoder.feed(_wire(record)))) == 1


def test_vorarlberg_suite_1_without_key_then_a_wrong_key() -> None:
    wire = _wire(_record("vorarlberg_kaifa_ma309m_real_no_key"))
    decoder = DlmsDecoder(zone=ZONE)
    events = decoder.feed(wire)
    assert problems(events) == [ProblemKind.KEY_REQUIRED]
    assert decoder.security.security_control == 0x21
    decoder.set_keys(DlmsKeys.from_hex("000102030405060708090A0B0C0D0E0F"))
    events = decoder.feed(wire)
    assert problems(events) == [ProblemKind.DECRYPTION_FAILED]
    assert readings(events) == []


def test_a_wrong_key_is_told_from_an_unknown_layout() -> None:
    """Without a tag only the plaintext tells: garbage is a wrong key, a well-formed
    notification of an unknown layout is NOT RECOGNIZED material with its first bytes."""
    record = _record("netz_noe_spec_example_kaifa_ma309")
    wrong = DlmsDecoder(keys=DlmsKeys.from_hex("11" * 16))
    assert problems(wrong.feed(_wire(record))) == [ProblemKind.DECRYPTION_FAILED]
    keys = DlmsKeys.from_hex(record["encryption_key"])
    body = structure(*(number(Tag.INT8, n) for n in range(5)))
    plain = build_notification(7, b"", body)
    apdu = security.encrypt(plain, system_title=b"KFMg\x00\x00\x00\x01", invocation_counter=3,
                            security_control=0x21, keys=keys)
    decoder = DlmsDecoder(keys=keys, framing="raw")
    [event] = decoder.feed(apdu) + decoder.flush()
    assert isinstance(event, Problem)
    assert event.kind is ProblemKind.UNKNOWN_LAYOUT
    assert event.data.startswith(plain[:16])
    assert plain[:8].hex(" ") in event.detail
    assert decoder.layout == ""
