"""Detection end to end on simulated time, through the product's own parts: a virtual meter
on the in-process UART wire (VirtualLine), the real link supervisor and session, the real
decoders and detector, the device core, all built by the composition root, on a
VirtualClock, so every run is the same and a minute of meter time takes a fraction of a
second. Used by tests/emulator/meter/test_detection.py and bench/bench_detect.py."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.clock import VirtualClock
from emulator.device.settings import sections
from emulator.meter.virtual_line import VirtualLine
from emulator.runtime.backoff import Backoff
from meter_protocols.detect import LinkDetector
from meter_protocols.line import LineSettings
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profile import MeterKeys, Profile
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.status import MeterStatus
from meter_protocols.uart import Faults

T0 = 1_750_000_000.0  # a fixed start (June 2025), so every run is the same
ZONE = ZoneInfo("Europe/Zurich")  # loaded here, not on the event loop
#: With stop_on_ok, time advances in steps of this many seconds between checks.
STEP = 0.25

Event = Callable[[VirtualMeter, VirtualLine], None]


@dataclass
class SimResult:
    statuses: list[tuple[float, MeterStatus]] = field(default_factory=list)
    redetects: list[tuple[float, str]] = field(default_factory=list)
    #: (time, line settings) of every candidate applied, in order
    tried: list[tuple[float, str]] = field(default_factory=list)
    detector: LinkDetector | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)

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

    def lines(self) -> set[str]:
        return {line for _, line in self.tried}


class _Watch(logging.Handler):
    """Collects what the session says about candidates and re-detections."""

    def __init__(self, clock: VirtualClock, result: SimResult) -> None:
        super().__init__(logging.DEBUG)
        self.clock = clock
        self.result = result

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "] meter line changed, searching again: " in text:
            self.result.redetects.append((self.clock.monotonic(),
                                          text.split("searching again: ", 1)[1]))
        elif "] trying " in text:
            # "trying 2400 8E1 mbus-dlms (reason)" -> the line settings "2400 8E1"
            candidate = text.split("] trying ", 1)[1].split(" (", 1)[0]
            self.result.tried.append((self.clock.monotonic(), candidate.rsplit(" ", 1)[0]))


async def simulate(profile: str | Profile, *, duration: float, seed: int = 1,
                   settings: dict[str, Any] | None = None, faults: Faults | None = None,
                   events: dict[float, Event] | None = None, noise_only: bool = False,
                   stop_on_ok: bool = False, meter_line: LineSettings | None = None,
                   device_keys: MeterKeys | None = None, probe: bool = True,
                   data_dir: Path | None = None) -> SimResult:
    """Run `profile` for `duration` simulated seconds from factory meter settings (or with
    `settings` merged into them). `events` maps a time (seconds from the start) to a change
    of the meter or the line. `device_keys`: the keys the device holds (default: the
    meter's own, as if the user typed them in right). `probe` False: the line cannot
    measure its RX pin (like a USB adapter), so the search has only the bytes."""
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    clock = VirtualClock(T0)
    meter = VirtualMeter(prof, seed=seed, start=T0, zone=ZONE)
    line = VirtualLine(meter, clock, seed=seed)
    if meter_line is not None:
        line.set_meter_line(meter_line)
    if faults is not None:
        line.set_faults(faults)
    if noise_only:
        meter.silent = True
    if not probe:
        line.probe = lambda: None  # type: ignore[method-assign]
    folder = data_dir or Path(tempfile.mkdtemp(prefix="ww-sim-"))
    app = EmulatorApp(AppConfig(data_dir=folder, device_id="A842E39F8124", provision=False),
                      clock, line=line, services=[], backoff=Backoff(0.1, 0.5), http=False)
    result = SimResult()
    device = app.device
    keys = prof.keys if device_keys is None else device_keys
    changes: dict[str, Any] = dict(settings or {})
    if keys is not None and keys.encryption_key:
        changes.update(encryption=True, encryption_key=keys.encryption_key)
        if keys.authentication_key:
            changes["authentication_key"] = keys.authentication_key
    if changes:
        await device.settings.aput(sections.METER, changes)
    device.on_status(lambda status: result.statuses.append((clock.monotonic(), status)))
    watch = _Watch(clock, result)
    logger = logging.getLogger("emulator.meter.supervisor")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(watch)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the DEBUG lines are for the watch, not for the output
    await app.start()
    try:
        for at, change in sorted((events or {}).items()):
            await clock.advance(at - clock.monotonic())
            change(meter, line)
        while clock.monotonic() < duration:
            if stop_on_ok and device.meter.status is MeterStatus.OK:
                break
            step = duration - clock.monotonic()
            await clock.advance(min(STEP, step) if stop_on_ok else step)
        session = app.link.session if app.link is not None else None
        if session is not None:
            result.detector = session.detector
            result.diagnostics = session.diagnostics()
    finally:
        await app.stop()
        logger.removeHandler(watch)
        logger.setLevel(level)
        logger.propagate = propagate
    return result
