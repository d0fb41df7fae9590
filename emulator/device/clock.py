"""The one clock of the device.

Everything that needs the time (report timestamps, intervals, uptime, the virtual meter's
values, the meter's silence timeout) asks this clock, so a test or a demo can run the whole
device faster than real time or start it at a chosen instant, and two runs with the same
seed and start give the same values.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    @property
    def speed(self) -> float: ...

    def time(self) -> float:
        """Wall-clock time in seconds since the epoch (UTC), as the device believes it."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps, at the device's speed."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of this clock's time."""
        ...

    async def sleep_until(self, when: float) -> None:
        """Sleep until time() reaches `when`."""
        ...

    def set_time(self, when: float) -> None:
        """Jump the wall clock (an NTP correction, or a test steering time)."""
        ...


class ScaledClock:
    """Wall time that starts at `start` (default: now) and runs `speed` times real time."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self._speed = speed
        self._real0 = time.monotonic()
        self._mono0 = 0.0
        self._wall0 = time.time() if start is None else start

    @property
    def speed(self) -> float:
        return self._speed

    def monotonic(self) -> float:
        return self._mono0 + (time.monotonic() - self._real0) * self._speed

    def time(self) -> float:
        return self._wall0 + self.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)

    async def sleep_until(self, when: float) -> None:
        # Re-check after waking: set_time() may have moved the wall clock meanwhile.
        while (remaining := when - self.time()) > 0:  # noqa: ASYNC110 - set_time may move it
            await asyncio.sleep(remaining / self._speed)

    def set_time(self, when: float) -> None:
        self._wall0 = when - self.monotonic()
