"""The link supervisor: opens the meter line, feeds the decoder, reports to the core, and
reopens a lost line with backoff. Decoders are pure; all the waiting happens here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from emulator.device.core import Device
from emulator.meter.line import Line, LineError
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.line import LineSettings, Parity
from meter_protocols.readings import Interface

_LOG = logging.getLogger(__name__)

LineFactory = Callable[[], Line]

_PARITY = {"none": Parity.NONE, "odd": Parity.ODD, "even": Parity.EVEN}


def fixed_settings(meter_settings: dict[str, object]) -> LineSettings:
    """The line settings /api/v1/meter/settings asks for (auto_baudrate off)."""
    parity = _PARITY[str(meter_settings["parity"])]
    baud = meter_settings["baudrate"]
    # The API has no data-bits field: P1 with parity is DSMR 2.2/3's 7E1, anything else
    # with parity is M-Bus style 8E1/8O1.
    p1 = meter_settings["if_type"] in ("p1", "p1_adapter")
    return LineSettings(
        baudrate=baud if isinstance(baud, int) else 115200,
        data_bits=7 if parity is not Parity.NONE and p1 else 8,
        parity=parity,
        stop_bits=float(str(meter_settings["stop_bits"])),
        inverted=bool(meter_settings["rx_invert"]),
    )


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


class LinkSupervisor:
    def __init__(self, device: Device, make_line: LineFactory,
                 backoff: Backoff | None = None) -> None:
        self.device = device
        self.make_line = make_line
        self.backoff = backoff or Backoff()
        self.line: Line | None = None

    def _settings(self) -> LineSettings:
        meter = self.device.settings.get("meter")
        if meter["auto_baudrate"]:
            return LineSettings()  # 115200 8N1: DSMR 4/5 until auto-detection decides
        return fixed_settings(meter)

    async def run(self) -> None:
        """Keep the line up until cancelled."""
        clock = self.device.clock
        watchdog = asyncio.get_running_loop().create_task(self._watch_silence(),
                                                          name="meter silence watchdog")
        try:
            while True:
                line = self.make_line()
                try:
                    await line.open(self._settings())
                except LineError as exc:
                    self.device.link_lost(str(exc))
                    await clock.sleep(self.backoff.next())
                    continue
                self.line = line
                try:
                    await self._pump(line)
                except LineError as exc:
                    self.device.link_lost(str(exc))
                finally:
                    self.line = None
                    await line.close()
                await clock.sleep(self.backoff.next())
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _pump(self, line: Line) -> None:
        device = self.device
        interface = line.interface if line.interface is not Interface.NONE else Interface.P1
        decoder = DsmrDecoder(device.zone)
        device.link_listening(interface, line.name)
        first = True
        while True:
            data = await line.read()
            if first:
                self.backoff.reset()
                first = False
            for event in decoder.feed(data):
                device.on_event(event, interface)

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
