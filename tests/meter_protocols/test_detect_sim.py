"""Detection end to end in pure code: a virtual meter, the UART line model, the real decoders
and the LinkDetector, all on simulated time (no sleeping, no event loop).

`simulate()` is also what bench/bench_detect.py runs; it plays the link supervisor's part:
it applies the detector's candidates to the reader side of a VirtualWire, builds a decoder
for each candidate's family, polls pull meters through a second wire (gateway -> meter), and
records every status the detector reports, with its simulated time.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from meter_protocols.detect import (
    Apply,
    DetectConfig,
    Family,
    IfType,
    LinkDetector,
    MeterStatus,
    Redetect,
    StatusChange,
)
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.line import LineSettings, Parity
from meter_protocols.readings import Event
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profile import MeterKeys, Profile
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.uart import Faults, NoiseBurst, VirtualWire

T0 = 1_750_000_000.0  # a fixed start (June 2025), so every run is the same
STEP = 0.05  # how often the simulated supervisor reads the port and ticks


class Decoder(Protocol):
    def feed(self, data: bytes) -> list[Event]: ...


class Reader:
    """What the simulated supervisor reads a candidate with: a push decoder, or a KMP poller
    (which also says what to send)."""

    def __init__(self, decoder: Any, pull: bool) -> None:
        self.decoder = decoder
        self.pull = pull

    def poll(self, now: float) -> bytes:
        return bytes(self.decoder.poll(now)) if self.pull else b""

    def feed(self, data: bytes, now: float) -> list[Event]:
        if self.pull:
            return list(self.decoder.feed(data, now))
        return list(self.decoder.feed(data))

    def pending(self) -> list[Event]:
        return list(self.decoder.take_events()) if self.pull else []


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def make_decoder(family: Family, profile_keys: Any = None, now: float = 0.0) -> Any:
    """The decoder (or poller) the I/O layer would build for a family; None when that
    family's package is not in the tree."""
    if family is Family.DSMR:
        return DsmrDecoder()
    if family in (Family.HDLC_DLMS, Family.MBUS_DLMS):
        factory = _optional("meter_protocols.dlms.decoder", "DlmsDecoder")
        keys_type = _optional("meter_protocols.dlms.security", "DlmsKeys")
        if factory is None or keys_type is None:
            return None
        keys = keys_type.from_hex(getattr(profile_keys, "encryption_key", ""),
                                  getattr(profile_keys, "authentication_key", ""))
        return factory(keys=keys)
    factory = _optional("meter_protocols.kmp.poller", "KmpPoller")
    return None if factory is None else factory(start=now)


@dataclass
class SimResult:
    statuses: list[tuple[float, MeterStatus]] = field(default_factory=list)
    applied: list[tuple[float, str]] = field(default_factory=list)
    redetects: list[tuple[float, str]] = field(default_factory=list)
    detector: LinkDetector | None = None

    def first(self, status: MeterStatus, after: float = 0.0) -> float | None:
        for t, s in self.statuses:
            if s is status and t >= after:
                return t
        return None

    @property
    def final(self) -> MeterStatus:
        return self.statuses[-1][1]

    def sequence(self) -> list[MeterStatus]:
        out: list[MeterStatus] = []
        for _, s in self.statuses:
            if not out or out[-1] is not s:
                out.append(s)
        return out


def simulate(profile: str | Profile, *, duration: float, seed: int = 1,
             config: DetectConfig | None = None, faults: Faults | None = None,
             events: dict[float, Callable[[VirtualMeter, VirtualWire], None]] | None = None,
             use_probe: bool = False, noise_only: bool = False,
             decoder_factory: Callable[[Family, float], Any] | None = None,
             stop_on_ok: bool = False, pty: bool = False,
             meter_line: LineSettings | None = None,
             device_keys: MeterKeys | None = None) -> SimResult:
    """Run `profile` for `duration` simulated seconds from factory settings (or `config`).
    `events` maps a relative time to a change of the meter or the wire (speed change...).
    `pty`: the line carries bytes, not levels (the reader gets clean bytes whatever its
    settings, and no error flags), as on a pty or a TCP socket. `device_keys`: the keys
    the device holds (default: the meter's own, i.e. the user typed them in right)."""
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    line = meter_line or prof.line
    meter = VirtualMeter(prof, seed=seed, start=T0)
    det = LinkDetector(config or DetectConfig())
    result = SimResult(detector=det)
    keys = prof.keys if device_keys is None else device_keys
    make = decoder_factory or (lambda fam, now: make_decoder(fam, keys, now))
    state: dict[str, Any] = {"reader": None}
    wire = VirtualWire(line, line if pty else LineSettings(), start=T0, faults=faults,
                       seed=seed)
    back = VirtualWire(line if pty else LineSettings(), line, start=T0,
                       seed=seed + 1)  # gateway -> meter
    pending_events = sorted((events or {}).items())

    def handle(actions: list[Any], t: float) -> None:
        while actions:
            action = actions.pop(0)
            if isinstance(action, StatusChange):
                result.statuses.append((t - T0, action.status))
            elif isinstance(action, Redetect):
                result.redetects.append((t - T0, action.reason))
            elif isinstance(action, Apply):
                cand = action.candidate
                result.applied.append((t - T0, str(cand)))
                if not pty:
                    wire.reader_settings = cand.line
                    back.meter_settings = cand.line
                decoder = make(cand.family, t)
                state["reader"] = None if decoder is None else Reader(decoder, cand.pull)
                if decoder is not None and action.replay:
                    actions += det.decoded(state["reader"].feed(action.replay, t), t)

    handle(det.start(T0), T0)
    t = T0
    next_push = None if noise_only or prof.mode == "pull" else meter.next_push_at()
    end = T0 + duration
    while t < end:
        t = round(t + STEP, 6)
        while pending_events and T0 + pending_events[0][0] <= t:
            pending_events.pop(0)[1](meter, wire)
        while next_push is not None and next_push <= t:
            wire.send(meter.push(next_push), next_push)
            next_push = meter.next_push_at()
        reader: Reader | None = state["reader"]
        actions: list[Any] = []
        if reader is not None and reader.pull:
            request = reader.poll(t)
            if request:
                back.send(request, t)
            actions += det.decoded(reader.pending(), t)
        if prof.mode == "pull" and not noise_only:
            request_in = back.read(t)
            if request_in.data:
                answer = meter.receive(request_in.data, t)
                if answer:
                    wire.send(answer, t + 0.02)
        received = wire.read(t)
        if use_probe:
            actions += det.line_probe(wire.probe(), t)
        if received.data:
            actions += det.received(received.data, t, None if pty else received.flags)
            if reader is not None:
                actions += det.decoded(reader.feed(received.data, t), t)
        actions += det.tick(t)
        handle(actions, t)
        if stop_on_ok and det.status is MeterStatus.OK:
            break
    return result


def available_profiles() -> list[str]:
    """Profiles whose decoders exist in this tree."""
    names = []
    for name, prof in sorted(PROFILES.items()):
        family = {"DSMR": Family.DSMR, "KMP": Family.KMP}.get(prof.protocol.value,
                                                               Family.MBUS_DLMS)
        if prof.mode == "pull" and family is not Family.KMP:
            continue
        if make_decoder(family, prof.keys) is not None:
            names.append(name)
    return names


# --- tests ---------------------------------------------------------------------------------


def applied_lines(result: SimResult) -> set[str]:
    return {cand.rsplit(" ", 1)[0] for _, cand in result.applied}


def test_ensor_reaches_ok_quickly_with_the_status_sequence() -> None:
    result = simulate("ensor-ers", duration=10, stop_on_ok=True)
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.OK]
    ok = result.first(MeterStatus.OK)
    assert ok is not None
    assert ok <= 3 * get_profile("ensor-ers").interval + 0.5
    assert result.detector is not None
    cand = result.detector.candidate
    assert cand is not None
    assert str(cand.line) == "115200 8N1"
    assert cand.family is Family.DSMR


@pytest.mark.parametrize("profile", available_profiles())
def test_every_profile_reaches_ok_from_factory_settings(profile: str) -> None:
    prof = get_profile(profile)
    result = simulate(profile, duration=25, stop_on_ok=True)
    ok = result.first(MeterStatus.OK)
    assert result.detector is not None
    assert ok is not None, result.detector.diagnostics(T0 + 25).to_json()
    assert ok <= 20.0
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.OK]
    # At most three report intervals after the right line was first applied.
    right = str(prof.line)
    first_right = min(t for t, cand in result.applied if cand.rsplit(" ", 1)[0] == right)
    assert ok - first_right <= 3 * prof.interval + 0.5
    cand = result.detector.candidate
    assert cand is not None
    assert cand.line == prof.line
    assert cand.interface is prof.interface


@pytest.mark.parametrize("profile", available_profiles())
def test_every_profile_over_a_pty_reaches_ok_from_bytes_alone(profile: str) -> None:
    result = simulate(profile, duration=25, stop_on_ok=True, pty=True)
    assert result.first(MeterStatus.OK) is not None
    assert result.detector is not None
    assert result.detector.diagnostics(T0).totals.framing_errors == 0


def test_meter_changing_from_115200_8n1_to_9600_7e1_is_found_again() -> None:
    def slow_down(meter: VirtualMeter, wire: VirtualWire) -> None:
        wire.meter_settings = LineSettings.parse("9600 7E1")

    result = simulate("ensor-ers", duration=60, events={20.0: slow_down})
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.OK,
                                 MeterStatus.RECOGNITION, MeterStatus.OK]
    assert len(result.redetects) == 1
    assert "no frame decoded" in result.redetects[0][1]
    back = result.first(MeterStatus.OK, after=20.0)
    assert back is not None
    assert back - 20.0 <= 20.0
    assert result.detector is not None
    cand = result.detector.candidate
    assert cand is not None
    assert str(cand.line) == "9600 7E1"


def test_pure_noise_is_not_recognized_and_the_search_goes_on() -> None:
    noise = Faults(noise=(NoiseBurst(T0, 1000.0, rate=3000),))
    result = simulate("ensor-ers", duration=90, noise_only=True, faults=noise)
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.NOT_RECOGNIZED]
    gave_up = result.first(MeterStatus.NOT_RECOGNIZED)
    assert gave_up is not None
    assert gave_up <= 60.0
    assert any(t > gave_up for t, _ in result.applied)  # still trying
    assert result.detector is not None
    diag = result.detector.diagnostics(T0 + 90)
    assert "no supported protocol fits" in diag.message
    assert diag.totals.framing_errors > 0
    assert len(applied_lines(result)) >= 8


def test_no_signal_is_not_connected_until_the_meter_starts() -> None:
    def mute(meter: VirtualMeter, wire: VirtualWire) -> None:
        meter.silent = True

    def unmute(meter: VirtualMeter, wire: VirtualWire) -> None:
        meter.silent = False

    result = simulate("lg-e570", duration=40, events={0.0: mute, 25.0: unmute})
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.NOT_CONNECTED,
                                 MeterStatus.RECOGNITION, MeterStatus.OK]
    silent = result.first(MeterStatus.NOT_CONNECTED)
    assert silent is not None
    assert 15.0 <= silent <= 17.0
    ok = result.first(MeterStatus.OK)
    assert ok is not None
    assert ok <= 25.0 + 3 * 3.0 + 0.5


def test_locked_meter_going_quiet_shows_no_data_then_ok_again() -> None:
    def mute(meter: VirtualMeter, wire: VirtualWire) -> None:
        meter.silent = True

    def unmute(meter: VirtualMeter, wire: VirtualWire) -> None:
        meter.silent = False

    result = simulate("ensor-ers", duration=40, events={10.0: mute, 30.0: unmute})
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.OK,
                                 MeterStatus.NO_DATA, MeterStatus.OK]
    quiet = result.first(MeterStatus.NO_DATA)
    assert quiet is not None
    assert 14.0 <= quiet <= 16.5  # 3 intervals + 1 s, at least 5 s
    assert not result.redetects


def test_inverted_line_is_found() -> None:
    result = simulate("ensor-ers", duration=20, stop_on_ok=True,
                      meter_line=LineSettings.parse("115200 8N1 inverted"))
    assert result.first(MeterStatus.OK) is not None
    assert result.detector is not None
    cand = result.detector.candidate
    assert cand is not None
    assert cand.line.inverted


def test_dsmr_2_2_style_7e1_meter_is_found() -> None:
    result = simulate("ensor-ers", duration=20, stop_on_ok=True,
                      meter_line=LineSettings.parse("9600 7E1"))
    ok = result.first(MeterStatus.OK)
    assert ok is not None
    assert ok <= 10.0
    assert result.detector is not None
    assert result.detector.candidate is not None
    assert str(result.detector.candidate.line) == "9600 7E1"


@pytest.mark.parametrize("profile", [p for p in ("kaifa-ma309", "iskra-am550")
                                     if p in available_profiles()])
def test_ciphered_meter_without_key_is_key_required(profile: str) -> None:
    result = simulate(profile, duration=25, device_keys=MeterKeys())
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.KEY_REQUIRED]
    assert result.detector is not None
    diag = result.detector.diagnostics(T0 + 25)
    assert "no key is set" in diag.message
    assert diag.totals.key_required >= 1


@pytest.mark.parametrize("profile", [p for p in ("kaifa-ma309", "iskra-am550")
                                     if p in available_profiles()])
def test_ciphered_meter_with_a_wrong_key_is_encryption_key(profile: str) -> None:
    wrong = MeterKeys(encryption_key="00112233445566778899AABBCCDDEEFF")
    result = simulate(profile, duration=25, device_keys=wrong)
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.ENCRYPTION_KEY]
    assert result.detector is not None
    diag = result.detector.diagnostics(T0 + 25)
    assert "the key is wrong" in diag.message
    assert diag.totals.decryption_failures >= 1
    # ENCRYPTION KEY as soon as the first ciphered frame was read on the right line.
    prof = get_profile(profile)
    first_right = min(t for t, cand in result.applied if cand.startswith(str(prof.line)))
    shown = result.first(MeterStatus.ENCRYPTION_KEY)
    assert shown is not None
    assert shown - first_right <= 2 * prof.interval + 1.0


def test_fixed_settings_never_leave_the_given_line() -> None:
    config = DetectConfig(auto_baudrate=False, baudrate=9600, parity=Parity.NONE)
    result = simulate("lg-e570", duration=70, config=config)
    assert applied_lines(result) == {"9600 8N1"}
    assert result.final is MeterStatus.NOT_RECOGNIZED
    right = DetectConfig(auto_baudrate=False, baudrate=2400, parity=Parity.EVEN)
    ok = simulate("lg-e570", duration=15, config=right, stop_on_ok=True)
    assert applied_lines(ok) == {"2400 8E1"}
    assert ok.final is MeterStatus.OK


def test_if_type_p1_only_tries_p1_lines() -> None:
    config = DetectConfig(if_type=IfType.P1)
    result = simulate("ensor-ers", duration=10, config=config, stop_on_ok=True,
                      meter_line=LineSettings.parse("9600 7E1"))
    assert applied_lines(result) <= {"115200 8N1", "9600 7E1", "115200 8N1 inverted",
                                     "9600 7E1 inverted"}
    assert result.final is MeterStatus.OK


def test_line_probe_finds_a_slow_inverted_meter_at_the_first_try() -> None:
    plain = simulate("lg-e570", duration=30, stop_on_ok=True,
                     meter_line=LineSettings.parse("2400 8E1 inverted"))
    probed = simulate("lg-e570", duration=30, stop_on_ok=True, use_probe=True,
                      meter_line=LineSettings.parse("2400 8E1 inverted"))
    t_plain, t_probed = plain.first(MeterStatus.OK), probed.first(MeterStatus.OK)
    assert t_plain is not None
    assert t_probed is not None
    assert t_probed <= t_plain
    assert "2400 8E1 inverted" in applied_lines(probed)


@pytest.mark.skipif("kamstrup-omnipower" not in available_profiles(),
                    reason="KMP poller not in the tree")
def test_pull_meter_that_stops_answering_is_no_data_then_ok() -> None:
    def mute(meter: VirtualMeter, wire: VirtualWire) -> None:
        meter.silent = True

    def unmute(meter: VirtualMeter, wire: VirtualWire) -> None:
        meter.silent = False

    result = simulate("kamstrup-omnipower", duration=60, events={15.0: mute, 40.0: unmute})
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.OK,
                                 MeterStatus.NO_DATA, MeterStatus.OK]
    assert not result.redetects
