"""The Austrian virtual meters send as the real ones do: the same link framing, segment
layout, security byte and body shape as the real captures in shared/fixtures/real/dlms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, security
from meter_protocols.dlms.mbus import MbusFrame, MbusFramer
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from tests.conftest import real_fixture
from tests.meter_protocols.dlms.helpers import problems, readings

START = 1_735_700_000.0


def _capture(name: str) -> dict[str, Any]:
    path = real_fixture("dlms", "esp_smartmeter_netznoe", "netz_noe_vkw_captures.json")
    record: dict[str, Any] = next(r for r in json.loads(path.read_text())
                                  if r["name"] == name)
    return record


def _push(name: str) -> bytes:
    meter = VirtualMeter(get_profile(name), seed=4, start=START)
    due = meter.next_push_at()
    assert due is not None
    return meter.push(due)


def _frames(wire: bytes) -> list[MbusFrame]:
    out = MbusFramer().feed(wire)
    assert all(isinstance(f, MbusFrame) for f in out), out
    return [f for f in out if isinstance(f, MbusFrame)]


@pytest.mark.parametrize(("profile", "capture"), [
    ("tinetz-ma309", "vorarlberg_kaifa_ma309m_real_no_key"),
    ("netznoe-t210d", "netz_noe_sagemcom_t210d_real"),
])
def test_m_bus_meters_frame_like_the_real_capture(profile: str, capture: str) -> None:
    real = b"".join(bytes.fromhex(h) for h in _capture(capture)["hex"])
    ours, theirs = _frames(_push(profile)), _frames(real)
    assert [f.ci for f in ours] == [f.ci for f in theirs]  # two segments, 0x00 then 0x11
    assert (ours[0].control, ours[0].address) == (theirs[0].control, theirs[0].address)
    assert ours[0].size == theirs[0].size  # 256 bytes, or 263 with L mod 256
    assert _push(profile)[:4] == real[:4]  # 68 FA FA 68 / 68 01 01 68
    apdu_ours = b"".join(f.data[2:] for f in ours)
    apdu_theirs = b"".join(f.data[2:] for f in theirs)
    assert apdu_ours[:5] == apdu_theirs[:5]  # DB 08 and the vendor's FLAG letters
    sc_ours = security.parse_ciphered(apdu_ours).security_control
    assert sc_ours == security.parse_ciphered(apdu_theirs).security_control


@pytest.mark.parametrize(("profile", "head", "layout"), [
    ("wienernetze-im350", "7ea07bcf0002002313", "wienernetze-compact"),
    ("netzburgenland-e450", "7ea06dceff0313", "netzburgenland-e450"),
])
def test_hdlc_meters_frame_like_their_operators_meters(profile: str, head: str,
                                                      layout: str) -> None:
    """The Wiener Netze IM350 capture's header (one UI frame, 0xCF, four-byte source) and
    the Netz Burgenland E450's 111-byte frame (CE FF / 03)."""
    wire = _push(profile)
    assert wire.hex().startswith(head)
    keys = get_profile(profile).keys
    assert keys is not None
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(keys.encryption_key,
                                                 keys.authentication_key))
    events = decoder.feed(wire)
    assert problems(events) == []
    [reading] = readings(events)
    assert reading.layout == layout
    if keys.authentication_key:
        assert decoder.security.verified
