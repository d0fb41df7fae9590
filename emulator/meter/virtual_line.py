"""The in-process line to a virtual meter, through a simulated UART wire.

The meter's bytes become line levels at the meter's settings and are sampled at the
reader's settings by the bit-level UART model (meter_protocols.uart), so a wrong baud
rate, parity or polarity gives the framing errors, parity errors and garbage a real UART
would, and auto-detection has something real to find. Requests of pull meters travel the
other way on a second wire. Faults (dropped or flipped bytes, noise, silence, a meter that
changes its speed) can be switched on at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace

from emulator.device.clock import Clock
from emulator.meter.driver import MeterDriver
from emulator.meter.line import Chunk, LineClosed
from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.uart import Faults, LineProbe, VirtualWire

_LOG = logging.getLogger(__name__)

#: Bytes waiting for the reader before the oldest are lost, as in a UART's buffer.
BUFFER_LIMIT = 64 * 1024
#: How often the wire is sampled while the meter is quiet (noise may be on it), seconds.
IDLE_SAMPLE = 0.5
#: While characters arrive, the UART hands them over this often, seconds; and always when
#: the meter stops sending (the receive-timeout event). A read with a 100 ms timeout: a
#: 115200-baud telegram (70 ms) arrives in one piece, a 9600-baud one in about nine, well
#: inside the detector's 0.4 s burst gap. Each hand-over is a wake-up of the reader's loop,
#: and 20 ms pieces cost a fleet a fifth of its CPU (docs/decisions.md).
RX_CHUNK = 0.1
#: How long a meter takes to start answering a request, seconds.
TURNAROUND = 0.02


class VirtualLine:
    def __init__(self, meter: VirtualMeter, clock: Clock, *, seed: int = 0) -> None:
        self.meter = meter
        self.clock = clock
        self.driver = MeterDriver(meter, clock)
        # The wire counts monotonic seconds from here (small ticks; a wall clock set back
        # or forward does not move the bits already on the wire).
        self._t0 = clock.monotonic()
        self.wire = VirtualWire(meter.line, LineSettings(), start=0.0, seed=seed)
        self.back = VirtualWire(LineSettings(), meter.line, start=0.0, seed=seed + 1)
        self.settings: LineSettings | None = None
        self.tx_invert = False
        self._queue: asyncio.Queue[Chunk] = asyncio.Queue()
        self._queued = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.Task[None]] = set()
        self._closed = True
        self._busy_until = 0.0  # wire time of the last bit sent so far
        self._draining: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()  # the wire's settings or faults changed

    @property
    def name(self) -> str:
        return f"virtual:{self.meter.profile.name}"

    @property
    def interface(self) -> Interface:
        return self.meter.profile.interface

    def probe(self) -> LineProbe | None:
        """The wire's electrical view since the last call: idle level, shortest pulse."""
        return self.wire.probe()

    @property
    def reconfigurable(self) -> bool:
        return True

    # --- the reader's side ------------------------------------------------------------

    async def open(self, settings: LineSettings) -> None:
        await self.reconfigure(settings)
        self._closed = False
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.driver.run_pushes(self._meter_sends),
                             name=f"meter {self.name}"),
            loop.create_task(self._sample_idle(), name=f"wire {self.name}"),
        ]

    async def read(self) -> Chunk:
        if self._closed:
            raise LineClosed(f"{self.name} is closed")
        chunk = await self._queue.get()
        self._queued -= len(chunk.data)
        return chunk

    async def write(self, data: bytes) -> None:
        """The gateway sends a request: it reaches the meter through the back wire."""
        end = self.back.send(data, self._wire_now())
        self._at(end, self._meter_receives)

    async def reconfigure(self, settings: LineSettings) -> None:
        self.settings = settings
        self.wire.reader_settings = settings
        self.back.meter_settings = replace(settings, inverted=self.tx_invert)
        self._changed.set()

    async def close(self) -> None:
        self._closed = True
        tasks, self._tasks = self._tasks + list(self._timers), []
        self._timers.clear()
        if self._draining is not None:
            tasks.append(self._draining)
            self._draining = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- what tests and the control API steer ------------------------------------------

    def set_faults(self, faults: Faults) -> None:
        self.wire.faults = faults
        self._changed.set()

    def set_meter_line(self, settings: LineSettings) -> None:
        """The meter changes its line settings (some meters switch speed)."""
        _LOG.info("virtual meter %s now sends at %s", self.meter.profile.name, settings)
        self.wire.meter_settings = settings
        self.back.reader_settings = settings
        self._changed.set()

    # --- the wire ----------------------------------------------------------------------

    def _wire_now(self) -> float:
        return self.clock.monotonic() - self._t0

    def _at(self, wire_time: float, callback: Callable[[float], None]) -> None:
        """Call `callback(wire_time)` when the device's clock reaches that wire time."""

        async def fire() -> None:
            await self.clock.sleep(wire_time - self._wire_now())
            if not self._closed:
                callback(wire_time)

        task = asyncio.get_running_loop().create_task(fire(), name=f"wire timer {self.name}")
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def _meter_sends(self, frame: bytes) -> None:
        self._busy(self.wire.send(frame, self._wire_now()))

    def _meter_receives(self, until: float) -> None:
        request = self.back.read(until)
        if not request.data:
            return
        answer = self.driver.answer(request.data)
        if answer:
            self._busy(self.wire.send(answer, until + TURNAROUND))

    def _busy(self, end: float) -> None:
        """Characters are on the wire until `end`: hand them over as they arrive."""
        self._busy_until = max(self._busy_until, end)
        if self._draining is None or self._draining.done():
            self._draining = asyncio.get_running_loop().create_task(
                self._drain(), name=f"rx {self.name}")

    async def _drain(self) -> None:
        while True:
            now = self._wire_now()
            if now >= self._busy_until:
                self._collect(self._busy_until)
                return
            await self.clock.sleep(min(RX_CHUNK, self._busy_until - now))
            self._collect(min(self._wire_now(), self._busy_until))

    def _collect(self, until: float) -> None:
        received = self.wire.read(until)
        if not received.data:
            return
        if self._queued + len(received.data) > BUFFER_LIMIT:
            return  # nobody reads: the meter's bytes fall on the floor
        self._queued += len(received.data)
        self._queue.put_nowait(Chunk(received.data, received.flags))

    async def _sample_idle(self) -> None:
        """Noise, or a reader at other settings, gives characters while the meter rests:
        sample the wire then. A clean line read at the meter's settings gives nothing at
        rest (its rest is measured with the next frame), so the sampler sleeps until the
        settings or faults change: a fleet's devices do not wake twice a second for it."""
        while True:
            if self.wire.quiet_when_idle:
                self._changed.clear()
                await self._changed.wait()
                continue
            await self.clock.sleep(IDLE_SAMPLE)
            self._collect(self._wire_now())
