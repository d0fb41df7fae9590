"""The in-process line to a virtual meter: the meter's bytes arrive as from a real port."""

from __future__ import annotations

import asyncio
import contextlib

from emulator.device.clock import Clock
from emulator.meter.driver import MeterDriver
from emulator.meter.line import LineClosed
from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface
from meter_protocols.simulator.meter import VirtualMeter

#: Bytes waiting for the reader before the oldest are lost, as in a UART's buffer.
BUFFER_LIMIT = 64 * 1024


class VirtualLine:
    def __init__(self, meter: VirtualMeter, clock: Clock) -> None:
        self.meter = meter
        self.driver = MeterDriver(meter, clock)
        self.settings: LineSettings | None = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._queued = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = True

    @property
    def name(self) -> str:
        return f"virtual:{self.meter.profile.name}"

    @property
    def interface(self) -> Interface:
        return self.meter.profile.interface

    @property
    def reconfigurable(self) -> bool:
        return True

    async def open(self, settings: LineSettings) -> None:
        self.settings = settings
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(
            self.driver.run_pushes(self._deliver), name=f"meter {self.name}")

    def _deliver(self, data: bytes) -> None:
        if self._queued + len(data) > BUFFER_LIMIT:
            return  # nobody reads: the meter's bytes fall on the floor
        self._queued += len(data)
        self._queue.put_nowait(data)

    async def read(self) -> bytes:
        if self._closed:
            raise LineClosed(f"{self.name} is closed")
        data = await self._queue.get()
        self._queued -= len(data)
        return data

    async def write(self, data: bytes) -> None:
        answer = self.driver.answer(data)
        if answer:
            self._deliver(answer)

    async def reconfigure(self, settings: LineSettings) -> None:
        self.settings = settings

    async def close(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
