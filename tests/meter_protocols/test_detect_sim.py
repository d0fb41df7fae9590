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
    LinkDetector,
    MeterStatus,
    Redetect,
    StatusChange,
)
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.line import LineSettings
from meter_protocols.readings import Event
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profile import Profile
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.uart import Faults, VirtualWire

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
             meter_line: LineSettings | None = None) -> SimResult:
    """Run `profile` for `duration` simulated seconds from factory settings (or `config`).
    `events` maps a relative time to a change of the meter or the wire (speed change...).
    `pty`: the line carries bytes, not levels (the reader gets clean bytes whatever its
    settings, and no error flags), as on a pty or a TCP socket."""
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    line = meter_line or prof.line
    meter = VirtualMeter(prof, seed=seed, start=T0)
    det = LinkDetector(config or DetectConfig())
    result = SimResult(detector=det)
    make = decoder_factory or (lambda fam, now: make_decoder(fam, prof.keys, now))
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


# --- tests -------------------------------------------------------------------------------


def test_ensor_reaches_ok_within_two_intervals() -> None:
    result = simulate("ensor-ers", duration=10, stop_on_ok=True)
    assert result.sequence() == [MeterStatus.RECOGNITION, MeterStatus.OK]
    ok = result.first(MeterStatus.OK)
    assert ok is not None
    assert ok <= 2 * get_profile("ensor-ers").interval + 0.2


@pytest.mark.parametrize("profile", available_profiles())
def test_every_profile_reaches_ok_from_factory_settings(profile: str) -> None:
    interval = get_profile(profile).interval
    result = simulate(profile, duration=25, stop_on_ok=True)
    ok = result.first(MeterStatus.OK)
    assert ok is not None, result.detector.diagnostics(T0 + 25).to_json() if result.detector \
        else None
    assert ok <= 20.0
    # At most three report intervals after the right line was first applied.
    right = str(get_profile(profile).line)
    tried = [t for t, cand in result.applied if cand.startswith(right + " ")]
    first_right = tried[0] if tried else 0.0
    assert ok - first_right <= 3 * interval + 0.5
