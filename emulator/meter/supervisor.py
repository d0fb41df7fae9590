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
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from emulator.device.core import Device
from emulator.meter.line import Chunk, Line, LineError
from emulator.meter.readers import Reader
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

_LOG = logging.getLogger(__name__)

LineFactory = Callable[[], Line]

#: The settings section of /api/v1/meter/scalers/custom.
SCALERS_SECTION = "meter_scalers"

_CONNECTORS = {Interface.P1: IfType.P1, Interface.MBUS: IfType.MBUS, Interface.TTL: IfType.TTL}


def fixed_settings(meter_settings: dict[str, Any]) -> LineSettings:
    """The line settings /api/v1/meter/settings asks for when auto_baudrate is off."""
    return DetectConfig.from_settings(meter_settings).fixed_line()


class Backoff:
    """Waits between reconnection attempts: doubling from `first` up to `limit`."""

    def __init__(self, first: float = 0.5, limit: float = 10.0) -> None:
        self.first, self.limit = first, limit
        self._next = first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.limit)
        return delay

    def reset(self) -> None:
        self._next = self.first


class LinkSession:
    """Everything about one opened line: the detector, the current candidate and reader."""

    def __init__(self, device: Device, line: Line) -> None:
        self.device = device
        self.line = line
        self.clock = device.clock
        self.detector = LinkDetector(self._config())
        self.candidate: Candidate | None = None
        self.reader: Reader | None = None
        self._actions: list[Action] = []
        self._wake = asyncio.Event()
        self._received_any = False

    def _config(self) -> DetectConfig:
        try:
            config = DetectConfig.from_settings(self.device.settings.get("meter"))
        except ProtocolError as exc:  # stored settings validated on write; be safe anyway
            _LOG.error("meter settings unusable (%s); using factory settings", exc)
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
            self.reader.configure(self.device.settings.get("meter"), self._custom_scalers())
        self._wake.set()

    def _custom_scalers(self) -> list[dict[str, Any]]:
        section = self.device.settings.get(SCALERS_SECTION)
        return list(section.get("scalers", []))

    # --- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        device = self.device
        device.link_searching(self.line.name)
        device.meter.diagnostics_source = self.diagnostics
        await self._handle(self.detector.start(self.clock.monotonic()))
        read_task: asyncio.Task[Chunk] | None = None
        wake_task: asyncio.Task[bool] | None = None
        try:
            while True:
                if read_task is None:
                    read_task = asyncio.ensure_future(self.line.read())
                if wake_task is None:
                    wake_task = asyncio.ensure_future(self._wake.wait())
                done, _ = await asyncio.wait({read_task, wake_task}, timeout=self._timeout(),
                                             return_when=asyncio.FIRST_COMPLETED)
                now = self.clock.monotonic()
                actions: list[Action] = []
                if wake_task in done:
                    self._wake.clear()
                    wake_task = None
                if read_task in done:
                    chunk = read_task.result()  # a LineError ends the session
                    read_task = None
                    actions += self._received(chunk, now)
                actions += await self._poll(now)
                actions += self.detector.tick(now)
                actions += self._actions
                self._actions = []
                await self._handle(actions)
        finally:
            for task in (read_task, wake_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, LineError):
                        await task
            if device.meter.diagnostics_source == self.diagnostics:
                device.meter.diagnostics_source = None

    def _timeout(self) -> float | None:
        deadlines = [d for d in (self.detector.deadline,
                                 self.reader.deadline() if self.reader else None)
                     if d is not None]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - self.clock.monotonic()) / self.clock.speed

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
                _LOG.info("meter: %s (%s)", action.message, action.status.value)
                self.device.link_status(action.status, action.message)
            elif isinstance(action, Redetect):
                _LOG.warning("meter line changed, searching again: %s", action.reason)
            elif isinstance(action, Apply):
                actions += await self._apply(action)

    async def _apply(self, action: Apply) -> list[Action]:
        candidate = action.candidate
        now = self.clock.monotonic()
        if action.line_changed and self.line.reconfigurable:
            await self.line.reconfigure(candidate.line)
        self.candidate = candidate
        self.reader = Reader(candidate.family, self.device.settings.get("meter"),
                             self._custom_scalers(), self.device.zone, now)
        self.device.meter.line = f"{self.line.name} {candidate}"
        _LOG.debug("trying %s (%s)", candidate, candidate.reason)
        if action.replay:
            return self._events(self.reader.feed(action.replay, now), now)
        return []

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

    def _initial_settings(self) -> LineSettings:
        meter = self.device.settings.get("meter")
        return LineSettings() if meter["auto_baudrate"] else fixed_settings(meter)

    async def run(self) -> None:
        """Keep the line up until cancelled."""
        clock = self.device.clock
        watchdog = asyncio.get_running_loop().create_task(self._watch_silence(),
                                                          name="meter silence watchdog")
        try:
            while True:
                line = self.make_line()
                try:
                    await line.open(self._initial_settings())
                except LineError as exc:
                    self.device.link_lost(str(exc))
                    await clock.sleep(self.backoff.next())
                    continue
                session = LinkSession(self.device, line)
                self.session = session
                unsubscribe = [self.device.settings.subscribe(name, session.settings_changed)
                               for name in ("meter", SCALERS_SECTION)]
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
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _watch_silence(self) -> None:
        device = self.device
        clock = device.clock
        judged: float | None = None  # the deadline already acted on
        while True:
            deadline = device.silence_deadline()
            if deadline is None or deadline == judged:
                await clock.sleep(0.5)
                continue
            await clock.sleep(max(0.0, deadline - clock.monotonic()) + 0.01)
            if device.silence_deadline() == deadline:  # no frame came meanwhile
                device.check_silence()
                judged = deadline
