"""The one clock of the device.

Everything that needs the time (report timestamps, intervals, uptime, the virtual meter's
values, the meter's silence timeout) asks this clock, so a test or a demo can run the whole
device faster than real time or start it at a chosen instant, and two runs with the same
seed and start give the same values.
"""

from __future__ import annotations

import asyncio
import heapq
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


class VirtualClock:
    """Time that moves only when `advance()` says so: the device runs on simulated time,
    deterministically, as fast as the machine allows (tests, the detection benchmark, and
    the manual-clock mode of the CI mock).

    Every wait of the device and its virtual meter goes through `sleep()`/`sleep_until()`;
    `advance(seconds)` moves time from one sleeper's deadline to the next, waking each in
    deadline order and letting the event loop run until nothing is ready before moving on,
    so everything that was due within the advanced span has happened when it returns.
    """

    def __init__(self, start: float | None = None) -> None:
        self._wall0 = time.time() if start is None else start
        self._mono = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    @property
    def speed(self) -> float:
        return 1.0

    def time(self) -> float:
        return self._wall0 + self._mono

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self._mono + seconds, self._seq, future))
        await future  # a cancelled sleeper is dropped when its deadline comes

    async def sleep_until(self, when: float) -> None:
        while (remaining := when - self.time()) > 0:
            await self.sleep(remaining)

    def set_time(self, when: float) -> None:
        self._wall0 = when - self._mono

    def next_deadline(self) -> float | None:
        """The monotonic time of the next sleeper (None: nobody waits on the clock)."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def stall(self, seconds: float) -> None:
        """Time passes with nothing running (the process was stopped, the machine slept):
        every sleeper due meanwhile wakes late, at the next advance()."""
        self._mono += max(0.0, seconds)

    async def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, running everything that falls due on the way."""
        target = self._mono + max(0.0, seconds)
        await settle()
        while (deadline := self.next_deadline()) is not None and deadline <= target:
            self._mono = max(self._mono, deadline)
            while self._sleepers and self._sleepers[0][0] <= self._mono:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    future.set_result(None)
            await settle()
        self._mono = target
        await settle()


#: At most this many loop turns per settle (a guard against a callback that reschedules
#: itself for ever).
SETTLE_TURNS = 10_000


async def settle() -> None:
    """Let the event loop run until no callback is ready (work that is due now is done)."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)  # CPython's queue of ready callbacks
    turns = SETTLE_TURNS if ready is not None else 64
    for _ in range(turns):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            # One more turn: a task woken by the last callback may queue more work.
            await asyncio.sleep(0)
            if not ready:
                return
