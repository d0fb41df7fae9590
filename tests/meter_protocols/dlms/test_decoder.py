"""The decoder on a real-looking line: broken frames are rejected and counted, the next
good one decodes; keys change at run time; the security state is visible."""

from __future__ import annotations

import dataclasses

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, hdlc
from meter_protocols.dlms.link import Framing
from meter_protocols.readings import ProblemKind
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profile import MeterKeys, Profile
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_dlms import encoder_for
from tests.meter_protocols.dlms.helpers import problems, readings

START = 1_735_700_000.0


def _keys(profile: Profile) -> DlmsKeys:
    assert profile.keys is not None
    return DlmsKeys.from_hex(profile.keys.encryption_key, profile.keys.authentication_key)


def _frames(profile: Profile, n: int, **options: object) -> list[bytes]:
    if options:
        profile = dataclasses.replace(profile, encoder=lambda p: encoder_for(p, **options))
    meter = VirtualMeter(profile, seed=11, start=START)
    out = []
    for _ in range(n):
        t = meter.next_push_at()
        assert t is not None
        out.append(meter.push(t))
    return out


def _hdlc_frames(wire: bytes) -> list[bytes]:
    """Split a run of HDLC frames (each with its own flags) into frames."""
    out = []
    at = 0
    while at < len(wire):
        length = ((wire[at + 1] & 0x07) << 8) | wire[at + 2]
        out.append(wire[at:at + length + 2])
        at += length + 2
    return out


ISKRA = get_profile("iskra-am550")  # HDLC segmented, SC 0x30
KAIFA = get_profile("kaifa-ma309")  # M-Bus segments, SC 0x20
E450 = get_profile("lg-e450")  # HDLC + GBT, clear


def _decoder(profile: Profile) -> DlmsDecoder:
    return DlmsDecoder(keys=_keys(profile) if profile.keys else None)


def test_frame_cut_in_half_then_good_frame() -> None:
    one, two = _frames(ISKRA, 2)
    decoder = _decoder(ISKRA)
    events = decoder.feed(one + two[: len(two) // 2] + _frames(ISKRA, 3)[2])
    assert len(readings(events)) == 2
    assert problems(events)  # the cut message is reported
    assert sum(decoder.counters.values()) >= 1


@pytest.mark.parametrize("profile", [ISKRA, E450], ids=lambda p: p.name)
def test_hdlc_segment_missing_or_repeated(profile: Profile) -> None:
    first, second = _frames(profile, 2)
    parts = _hdlc_frames(first)
    assert len(parts) >= 3
    missing = b"".join(parts[:1] + parts[2:])
    repeated = b"".join(parts[:2] + parts[1:])
    for broken in (missing, repeated):
        decoder = _decoder(profile)
        events = decoder.feed(broken + second)
        assert len(readings(events)) == 1, events
        assert ProblemKind.SEGMENT_ERROR in problems(events)
        assert decoder.counters[ProblemKind.SEGMENT_ERROR] >= 1


def test_mbus_segment_missing_or_repeated() -> None:
    first, second = _frames(KAIFA, 2, mbus_segment_size=100)
    parts = []
    at = 0
    while at < len(first):
        parts.append(first[at:at + first[at + 1] + 6])
        at += first[at + 1] + 6
    assert len(parts) >= 3
    for broken in (parts[0] + parts[2] + b"".join(parts[3:]),
                   parts[0] + parts[1] + parts[1] + b"".join(parts[2:])):
        decoder = _decoder(KAIFA)
        events = decoder.feed(broken + second)
        assert [r.identity.prefix for r in readings(events)] == ["KFM"]
        assert ProblemKind.SEGMENT_ERROR in problems(events)


@pytest.mark.parametrize("profile", [ISKRA, E450, KAIFA], ids=lambda p: p.name)
def test_bad_check_sequence_is_counted(profile: Profile) -> None:
    first, second = _frames(profile, 2)
    broken = bytearray(first)
    broken[len(broken) // 2] ^= 0x10
    decoder = _decoder(profile)
    events = decoder.feed(bytes(broken) + second)
    assert len(readings(events)) == 1
    assert decoder.counters[ProblemKind.BAD_CRC] == 1


def test_tampered_gcm_tag() -> None:
    # one single HDLC frame, so the FCS is recomputed over the altered tag
    profile = dataclasses.replace(ISKRA, encoder=lambda p: encoder_for(p, hdlc_max_info=0))
    first, second = _frames(profile, 2)
    info = bytearray(_hdlc_frames(first)[0][9:-3])  # after flag, format, addresses, HCS
    info[-1] ^= 0x01  # the last byte of the tag
    tampered = hdlc.build_frame(bytes(info), dest=b"\xcf", src=b"\x02\x23", control=0x03)
    decoder = _decoder(ISKRA)
    events = decoder.feed(tampered + second)
    assert problems(events) == [ProblemKind.DECRYPTION_FAILED]
    assert len(readings(events)) == 1
    assert decoder.counters[ProblemKind.DECRYPTION_FAILED] == 1


@pytest.mark.parametrize("profile", [ISKRA, KAIFA], ids=lambda p: p.name)
def test_no_key_and_wrong_key(profile: Profile) -> None:
    [frame] = _frames(profile, 1)
    no_key = DlmsDecoder()
    assert problems(no_key.feed(frame)) == [ProblemKind.KEY_REQUIRED]
    assert no_key.security.encrypted
    wrong = DlmsDecoder(keys=DlmsKeys.from_hex("0" * 32, "0" * 32))  # zeros: "not set"
    assert problems(wrong.feed(frame)) == [ProblemKind.KEY_REQUIRED]
    really_wrong = DlmsDecoder(keys=DlmsKeys(b"\x01" * 16, b"\x02" * 16))
    events = really_wrong.feed(frame)
    assert problems(events) == [ProblemKind.DECRYPTION_FAILED]
    assert not readings(events)
    really_wrong.set_keys(_keys(profile))
    assert len(readings(really_wrong.feed(_frames(profile, 2)[1]))) == 1


def test_security_state_follows_the_meter() -> None:
    decoder = DlmsDecoder(keys=_keys(ISKRA))
    decoder.feed(_frames(ISKRA, 1)[0])
    state = decoder.security
    assert (state.ciphered, state.encrypted, state.authenticated, state.verified) == \
        (True, True, True, True)
    assert state.security_control == 0x30
    assert state.system_title == bytes.fromhex(ISKRA.keys.system_title)  # type: ignore[union-attr]
    decoder.reset()
    decoder.feed(_frames(E450, 1)[0])
    assert not decoder.security.ciphered
    assert not decoder.security.encrypted


def test_auto_framing_finds_each_link_layer() -> None:
    for profile, framing in ((ISKRA, Framing.HDLC), (KAIFA, Framing.MBUS)):
        decoder = _decoder(profile)
        assert decoder.detected_framing is None
        frames = _frames(profile, 2)
        stream = b"\x11\x22\x7e\x68\x0f" + frames[0] + frames[1]
        events = [e for i in range(0, len(stream), 7) for e in decoder.feed(stream[i:i + 7])]
        assert len(readings(events)) == 2
        assert decoder.detected_framing is framing
    raw_profile = dataclasses.replace(KAIFA, encoder=lambda p: encoder_for(p, framing="raw"))
    decoder = _decoder(KAIFA)
    assert len(readings(decoder.feed(b"".join(_frames(raw_profile, 2))))) == 2
    assert decoder.detected_framing is Framing.RAW


def test_keys_without_authentication_key_read_an_authenticated_meter() -> None:
    assert ISKRA.keys is not None
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(ISKRA.keys.encryption_key))
    [reading] = readings(decoder.feed(_frames(ISKRA, 1)[0]))
    assert reading.values
    assert decoder.security.authenticated
    assert not decoder.security.verified


def test_byte_by_byte_feed_gives_the_same_readings() -> None:
    frames = b"".join(_frames(KAIFA, 2) + _frames(ISKRA, 0))
    whole = readings(_decoder(KAIFA).feed(frames))
    decoder = _decoder(KAIFA)
    trickled = readings([e for b in frames for e in decoder.feed(bytes((b,)))])
    assert [r.values for r in trickled] == [r.values for r in whole]
    assert len(whole) == 2


def test_report_objects_shape_of_the_e450_push() -> None:
    [frame] = _frames(E450, 1)
    [reading] = readings(DlmsDecoder().feed(frame))
    first = reading.objects[0]
    # as in the documentation's report/objects example: 28 entries, the setup first
    assert (first.logical_name, first.class_id, first.size) == ("0-8:25.9.0", 40, 28)
    listing = first.extra["push_object_list"]
    assert listing[1] == {"logical_name": "0-0:42.0.0", "class": 1, "attribute": 2,
                          "data_index": 0}
    by_name = {o.logical_name: o for o in reading.objects}
    ln = by_name["0-0:42.0.0"]
    assert (ln.tag, ln.size, ln.value) == (9, 16, b"LGZ1030784855204".hex().upper())
    energy = by_name["1-1:1.8.0"]
    assert (energy.tag, energy.size, energy.unit, energy.scaler) == (21, 8, 30, 0)
    current = by_name["1-0:31.7.0"]
    assert (current.tag, current.unit, current.scaler) == (20, 33, -2)
    tariff = by_name["0-0:96.14.0"]
    assert tariff.value == "5241544531000000" or tariff.value == "5241544532000000"
    assert reading.tariff in (1, 2)


def test_meter_keys_profile_type_is_used() -> None:
    # a clear profile becomes a ciphered one when keys are put on it
    keys = MeterKeys("000102030405060708090a0b0c0d0e0f", "", "4c475a0102030405", 5)
    profile = dataclasses.replace(E450, keys=keys)
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(keys.encryption_key))
    [reading] = readings(decoder.feed(_frames(profile, 1)[0]))
    assert reading.identity.prefix == "LGZ"
    assert decoder.security.security_control == 0x20
