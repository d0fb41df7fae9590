"""The link supervisor: keeps the meter line open, finds its settings and protocol with the
detector, feeds the decoders, polls pull meters, and reports to the device core.

Decoders and the detector are pure; all waiting happens here. One LinkSession lives while
the line is open; a lost line is reopened with backoff and searched anew. Changes of the
meter settings reach the running session at once (new keys, scalers, line settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from emulator.device.core import Device
from emulator.device.settings import sections
from emulator.meter.line import Chunk, Line, LineError
from emulator.meter.readers import Reader
from emulator.meter.settings import detect_config, fixed_settings
from emulator.runtime.backoff import Backoff
from emulator.runtime.logs import QuietLog, device_log
from meter_protocols.detect import (
    Action,
    Apply,
    Candidate,
    DetectConfig,
    IfType,
    LinkDetector,
    Redetect,
    StatusChange,
)
from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings
from meter_protocols.readings import Event, Interface

LineFactory = Callable[[], Line]

_CONNECTORS = {Interface.P1: IfType.P1, Interface.MBUS: IfType.MBUS, Interface.TTL: IfType.TTL}

#: Bytes of an offending chunk shown in the DEBUG line of an unexpected failure.
DUMP_BYTES = 256


class LinkSession:
    """Everything about one opened line: the detector, the current candidate and reader."""

    def __init__(self, device: Device, line: Line, quiet: QuietLog | None = None) -> None:
        self.device = device
        self.line = line
        self.clock = device.clock
        self.log = device_log(__name__, device.identity.device_id)
        self.quiet = quiet or QuietLog(self.log, level=logging.ERROR)
        #: Unexpected failures caught at the session's boundary (a bug, never bad input).
        self.failures = 0
        self.detector = LinkDetector(self._config())
        self.candidate: Candidate | None = None
        self.reader: Reader | None = None
        self._actions: list[Action] = []
        self._wake = asyncio.Event()
        self._received_any = False

    def _config(self) -> DetectConfig:
        try:
            config = detect_config(self.device.settings.meter)
        except ProtocolError as exc:  # stored settings validated on write; be safe anyway
            self.log.error("meter settings unusable (%s); using factory settings", exc)
            config = DetectConfig()
        # The device knows which of its connectors a meter is on (it measures their supply
        # voltages); a line that knows its connector narrows an automatic interface type.
        # A USB adapter or a socket tells nothing: the search then covers every interface.
        connector = _CONNECTORS.get(self.line.interface)
        if config.if_type is IfType.AUTO and connector is not None:
            config = replace(config, if_type=connector)
        return config

    @property
    def interface(self) -> Interface:
        if self.line.interface is not Interface.NONE:
            return self.line.interface
        return self.candidate.interface if self.candidate else Interface.NONE

    # --- settings changes (called synchronously by the settings registry) ---------------

    def settings_changed(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        now = self.clock.monotonic()
        self._actions += self.detector.reconfigure(self._config(), now)
        if self.reader is not None:
            self.reader.configure(self.device.settings.meter, self._custom_scalers())
        self._wake.set()

    def _custom_scalers(self) -> list[dict[str, Any]]:
        return self.device.settings.custom_scalers

    # --- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        device = self.device
        device.link_searching(self.line.name)
        device.ports.link_diagnostics = self.diagnostics
        await self._handle(self.detector.start(self.clock.monotonic()))
        read_task: asyncio.Task[Chunk] | None = None
        wake_task: asyncio.Task[bool] | None = None
        # The next deadline is waited on the device's clock (a virtual clock in
        # simulations), never on the loop's own timers. The deadline moves later with
        # every chunk; a timer set for an earlier time is kept (it wakes the loop once,
        # early, and a new one is set), so a chunk costs no new timer task.
        timer: asyncio.Task[None] | None = None
        timer_at = math.inf
        try:
            while True:
                if read_task is None:
                    read_task = asyncio.ensure_future(self.line.read())
                if wake_task is None:
                    wake_task = asyncio.ensure_future(self._wake.wait())
                waits: set[asyncio.Future[Any]] = {read_task, wake_task}
                deadline = self._deadline()
                if deadline is None or deadline < timer_at:
                    if timer is not None:
                        timer.cancel()
                        timer, timer_at = None, math.inf
                    if deadline is not None:
                        timer = asyncio.ensure_future(
                            self.clock.sleep(max(0.0, deadline - self.clock.monotonic())))
                        timer_at = deadline
                if timer is not None:
                    waits.add(timer)
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if timer in done:
                    timer, timer_at = None, math.inf
                now = self.clock.monotonic()
                chunk: Chunk | None = None
                if wake_task in done:
                    self._wake.clear()
                    wake_task = None
                if read_task in done:
                    chunk = read_task.result()  # a LineError ends the session
                    read_task = None
                try:
                    await self._step(chunk, now)
                except (LineError, asyncio.CancelledError):
                    raise
                except Exception as exc:  # noqa: BLE001 - the session's boundary
                    self._failed(exc, chunk)
        finally:
            if timer is not None:
                timer.cancel()
            for task in (read_task, wake_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, LineError):
                        await task
            if device.ports.link_diagnostics == self.diagnostics:
                device.ports.link_diagnostics = None

    async def _step(self, chunk: Chunk | None, now: float) -> None:
        actions: list[Action] = []
        probe = self.line.probe()
        if probe is not None:  # a line that measures its RX pin helps the search
            actions += self.detector.line_probe(probe, now)
        if chunk is not None:
            actions += self._received(chunk, now)
        actions += await self._poll(now)
        actions += self.detector.tick(now)
        actions += self._actions
        self._actions = []
        await self._handle(actions)

    def _failed(self, exc: Exception, chunk: Chunk | None) -> None:
        """An unexpected exception while handling the line (a bug: decoders never raise on
        input). Counted, logged once per kind, the reader's buffer dropped; the session
        goes on with the next bytes."""
        self.failures += 1
        self.device.meter.failures += 1
        kind = f"{type(exc).__name__} in the meter link"
        if self.quiet.problem(kind, "unexpected %s while reading the meter (%s); the buffer "
                              "was dropped and reading goes on", type(exc).__name__, exc):
            self.log.debug("meter link failure", exc_info=exc)
        if chunk is not None:
            self.log.debug("bytes being handled: %s", chunk.data[:DUMP_BYTES].hex(" "))
        if self.candidate is not None:
            self._new_reader(self.candidate, self.clock.monotonic())

    def _deadline(self) -> float | None:
        """The earliest time, on the device's monotonic clock, the loop must run by."""
        deadlines = [d for d in (self.detector.deadline,
                                 self.reader.deadline() if self.reader else None)
                     if d is not None]
        return min(deadlines) if deadlines else None

    def _received(self, chunk: Chunk, now: float) -> list[Action]:
        actions = self.detector.received(chunk.data, now, chunk.flags)
        if self.reader is not None:
            actions += self._events(self.reader.feed(chunk.data, now), now)
        return actions

    async def _poll(self, now: float) -> list[Action]:
        reader = self.reader
        if reader is None or not reader.pull:
            return []
        request = reader.poll(now)
        if request:
            await self.line.write(request)
        return self._events(reader.pending(), now)

    def _events(self, events: list[Event], now: float) -> list[Action]:
        if not events:
            return []
        interface = self.interface
        for event in events:
            self.device.on_event(event, interface)
        security = self.reader.security if self.reader else None
        if security is not None:
            self.device.set_security(security.encrypted, security.authenticated)
        return self.detector.decoded(events, now)

    async def _handle(self, actions: list[Action]) -> None:
        while actions:
            action = actions.pop(0)
            if isinstance(action, StatusChange):
                self.log.info("meter: %s (%s)", action.message, action.status.value)
                self.device.link_status(action.status, action.message)
            elif isinstance(action, Redetect):
                self.log.warning("meter line changed, searching again: %s", action.reason)
            elif isinstance(action, Apply):
                actions += await self._apply(action)

    async def _apply(self, action: Apply) -> list[Action]:
        candidate = action.candidate
        now = self.clock.monotonic()
        if action.line_changed and self.line.reconfigurable:
            await self.line.reconfigure(candidate.line)
        reader = self._new_reader(candidate, now)
        self.device.meter.line = f"{self.line.name} {candidate}"
        self.log.debug("trying %s (%s)", candidate, candidate.reason)
        if action.replay:
            return self._events(reader.feed(action.replay, now), now)
        return []

    def _new_reader(self, candidate: Candidate, now: float) -> Reader:
        self.candidate = candidate
        self.reader = Reader(candidate.family, self.device.settings.meter,
                             self._custom_scalers(), self.device.zone, now)
        return self.reader

    def diagnostics(self) -> dict[str, Any]:
        out = self.detector.diagnostics(self.clock.monotonic()).to_json()
        out["port"] = self.line.name
        return out


class LinkSupervisor:
    def __init__(self, device: Device, make_line: LineFactory,
                 backoff: Backoff | None = None) -> None:
        self.device = device
        self.make_line = make_line
        self.backoff = backoff or Backoff()
        self.session: LinkSession | None = None
        self.log = device_log(__name__, device.identity.device_id)
        #: Why the line cannot be opened, said once per cause; repeats are counted.
        self.quiet = QuietLog(self.log)

    def _initial_settings(self) -> LineSettings:
        meter = self.device.settings.meter
        return LineSettings() if meter.auto_baudrate else fixed_settings(meter)

    async def run(self) -> None:
        """Keep the line up until cancelled."""
        clock = self.device.clock
        while True:
            line = self.make_line()
            try:
                await line.open(self._initial_settings())
            except LineError as exc:
                self._unavailable(line, exc)
                await clock.sleep(self.backoff.next())
                continue
            for kind in self.quiet.active():
                self.quiet.resolved(kind, "meter line %s opened", line.name)
            session = LinkSession(self.device, line, self.quiet)
            self.session = session
            unsubscribe = [self.device.settings.subscribe(name, session.settings_changed)
                           for name in (sections.METER, sections.SCALERS)]
            frames = self.device.meter.frames
            try:
                await session.run()
            except LineError as exc:
                self.device.link_lost(str(exc))
            finally:
                for remove in unsubscribe:
                    remove()
                self.session = None
                await line.close()
            if self.device.meter.frames > frames:
                self.backoff.reset()  # the line worked: a later loss retries quickly
            await clock.sleep(self.backoff.next())

    def _unavailable(self, line: Line, exc: LineError) -> None:
        """The line cannot be opened: say why (once per cause), in the diagnostics too."""
        reason = str(exc) or type(exc).__name__
        self.device.link_lost(reason)
        self.device.meter.message = f"cannot open {line.name}: {reason}"
        self.quiet.problem(f"open:{type(exc).__name__}:{reason}", "cannot open the meter "
                           "line %s: %s (retrying)", line.name, reason)
