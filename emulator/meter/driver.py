"""Runs a sans-I/O virtual meter in time: pushes its frames when they are due, answers the
gateway's requests. Used by the in-process virtual line and by the meter servers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from emulator.device.clock import Clock
from meter_protocols.simulator.meter import VirtualMeter

_LOG = logging.getLogger(__name__)

Sink = Callable[[bytes], None]


class MeterDriver:
    def __init__(self, meter: VirtualMeter, clock: Clock) -> None:
        self.meter = meter
        self.clock = clock

    async def run_pushes(self, sink: Sink) -> None:
        """Hand each push frame to `sink` at its time, until cancelled. The schedule follows
        the device's clock: set forward, the gap's frames are not made up (no catch-up
        storm); set back, the next frame comes within an interval. The wait is done in steps
        of at most one interval, so a clock set back is noticed."""
        step = max(self.meter.profile.interval, 0.05)
        while True:
            now = self.clock.time()
            due = self.meter.next_push_at(now)
            if due is None:
                return
            if due > now:  # wait, then ask the schedule again (the clock may have jumped)
                await self.clock.sleep(min(step, due - now))
                continue
            frame = self.meter.push(due)
            if frame:
                sink(frame)

    def answer(self, request: bytes) -> bytes:
        """What the meter sends back to `request` (pull meters; b"" for push meters)."""
        return self.meter.receive(request, self.clock.time())
