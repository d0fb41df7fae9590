"""Every virtual DLMS meter, over every wire, decodes to the registers it pushed."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, ScalerConfig, ScalersSet
from meter_protocols.dlms.link import Framing
from meter_protocols.readings import MeterProtocol
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profile import MeterKeys, Profile
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.simulator.profiles_dlms import PROFILES as DLMS_PROFILES
from meter_protocols.simulator.profiles_dlms import SPECS, encoder_for
from tests.meter_protocols.dlms.helpers import problems, readings

START = 1_735_700_000.0  # 2025-01-01, a Wednesday
NAMES = [p.name for p in DLMS_PROFILES]

WIRES: dict[str, dict[str, Any]] = {
    "hdlc-single": {"framing": Framing.HDLC, "gbt_block_size": 0, "hdlc_max_info": 0},
    "hdlc-segmented": {"framing": Framing.HDLC, "gbt_block_size": 0, "hdlc_max_info": 64},
    "hdlc-gbt": {"framing": Framing.HDLC, "gbt_block_size": 50, "hdlc_max_info": 0},
    "hdlc-gbt-segmented": {"framing": Framing.HDLC, "gbt_block_size": 200,
                           "hdlc_max_info": 90},
    "mbus": {"framing": Framing.MBUS, "gbt_block_size": 0},
    "mbus-gbt": {"framing": Framing.MBUS, "gbt_block_size": 300},
    "raw": {"framing": Framing.RAW, "gbt_block_size": 0},
    "raw-gbt": {"framing": Framing.RAW, "gbt_block_size": 64},
}
SECURITY = {"clear": 0, "glo-0x20": 0x20, "glo-0x30": 0x30, "ded-0x30": 0x30}
KEYS = DlmsKeys(bytes(range(16)), bytes(range(16, 32)))


def _decoder_for(profile: Profile, keys: DlmsKeys | None, framing: str = "auto"
                 ) -> DlmsDecoder:
    scalers = ScalerConfig(ScalersSet.LGE570) if profile.name == "lg-e570" else None
    return DlmsDecoder(keys=keys, scalers=scalers, framing=framing)


def _assert_matches(profile: Profile, meter: VirtualMeter, decoder: DlmsDecoder,
                    frame: bytes, t: float) -> None:
    events = decoder.feed(frame)
    assert problems(events) == []
    [reading] = readings(events)
    expected = meter.state.advance(t).values  # advancing again to t changes nothing
    layout, _ = SPECS[profile.name]
    sent = {item.source for item in layout.items if not item.source.startswith("@")}
    assert set(reading.values) == sent
    for code in sent:
        # the wire's resolution: the register's scaler (float32 keeps ~7 digits)
        [item] = [i for i in layout.items if i.source == code]
        tolerance = max(10.0 ** item.scaler, abs(expected[code]) * 2e-7) * 0.51
        assert reading.values[code] == pytest.approx(expected[code], abs=tolerance), code
    assert reading.identity.logical_name == profile.identity.logical_name
    assert reading.identity.vendor == profile.identity.vendor
    assert reading.meter_time is not None
    assert abs(reading.meter_time.timestamp() - t) < 1.0


@pytest.mark.parametrize("name", NAMES)
def test_profile_as_configured(name: str) -> None:
    profile = get_profile(name)
    assert profile.protocol is MeterProtocol.DLMS
    assert profile.mode == "push"
    meter = VirtualMeter(profile, seed=7, start=START)
    keys = DlmsKeys.from_hex(profile.keys.encryption_key, profile.keys.authentication_key) \
        if profile.keys else None
    decoder = _decoder_for(profile, keys)
    for _ in range(3):
        t = meter.next_push_at()
        assert t is not None
        frame = meter.push(t)
        assert len(frame) / profile.line.bytes_per_second < profile.interval  # fits the line
        _assert_matches(profile, meter, decoder, frame, t)
    assert decoder.security.encrypted == bool(profile.keys and profile.keys.encryption_key)


@pytest.mark.parametrize("security", list(SECURITY))
@pytest.mark.parametrize("wire", list(WIRES))
@pytest.mark.parametrize("name", NAMES)
def test_every_wire(name: str, wire: str, security: str) -> None:
    profile = get_profile(name)
    sc = SECURITY[security]
    options = dict(WIRES[wire], security_control=sc,
                   service=0xDF if security.startswith("ded") else 0xDB)
    meter_keys = None
    if sc:
        meter_keys = MeterKeys(KEYS.encryption_key.hex(),
                               KEYS.authentication_key.hex() if sc & 0x10 else "",
                               "4142434445464748", 41)
    # the same meter on another wire
    profile = dataclasses.replace(profile, keys=meter_keys,
                                  encoder=lambda p: encoder_for(p, **options))
    meter = VirtualMeter(profile, seed=3, start=START)
    decoder = _decoder_for(profile, KEYS if sc else None,
                           framing=str(WIRES[wire]["framing"]))
    t = meter.next_push_at()
    assert t is not None
    _assert_matches(profile, meter, decoder, meter.push(t), t)
    assert decoder.security.ciphered == bool(sc)
    assert decoder.security.authenticated == bool(sc & 0x10)
    if sc:
        assert decoder.security.invocation_counter == 41


def test_invocation_counter_increments_per_frame() -> None:
    profile = get_profile("iskra-am550")
    meter = VirtualMeter(profile, seed=1, start=START)
    decoder = _decoder_for(profile, DlmsKeys.from_hex(profile.keys.encryption_key,  # type: ignore[union-attr]
                                                      profile.keys.authentication_key))  # type: ignore[union-attr]
    counters = []
    for _ in range(3):
        t = meter.next_push_at()
        assert t is not None
        decoder.feed(meter.push(t))
        counters.append(decoder.security.invocation_counter)
    assert counters == [1000, 1001, 1002]


def test_profiles_are_registered() -> None:
    for name in ("lg-e570", "lg-e450", "kaifa-ma309", "iskra-am550"):
        assert PROFILES[name].encoder is not None
        assert PROFILES[name].source
