"""Changes that clear themselves: a control request with `duration_s` schedules its own
revert on the DEVICE clock (so a manual clock's advance, or a fast clock, brings it on in
step with the meter), kept here so the application can cancel what is still pending when
it shuts down. A revert that fails is logged once and forgotten; it never takes anything
down."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from typing import Final

from aiohttp import web

from emulator.device.clock import Clock
from emulator.device.errors import SettingsError

_LOG = logging.getLogger(__name__)

#: What a revert does (a coroutine function's result is awaited; other results ignored).
Revert = Callable[[], object]


def check_duration(body: dict[str, object]) -> float | None:
    """The request's `duration_s` (a number > 0, at most a year), or None; a bad one raises
    SettingsError (a 400, nothing changed)."""
    value = body.get("duration_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not 0 < value <= 366 * 86400:
        raise SettingsError("duration_s: expected seconds > 0 (at most a year)")
    return float(value)


class Timers:
    """Reverts waiting for their moment on the device clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    def after(self, seconds: float, revert: Revert, what: str) -> float:
        """Run `revert` once `seconds` of device time have passed; returns the device wall
        time at which it falls due."""
        due = self.clock.time() + seconds
        task = asyncio.get_running_loop().create_task(self._run(seconds, revert, what),
                                                      name=f"revert {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return due

    async def _run(self, seconds: float, revert: Revert, what: str) -> None:
        await self.clock.sleep(seconds)
        try:
            result = revert()
            if inspect.isawaitable(result):
                await result
        except Exception:  # noqa: BLE001 - a failed revert must not take anything down
            _LOG.exception("reverting %s failed", what)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


TIMERS: Final = web.AppKey("control_timers", Timers)


def install(app: web.Application, clock: Clock) -> None:
    app[TIMERS] = Timers(clock)

    async def close(app: web.Application) -> None:
        await app[TIMERS].close()
    app.on_cleanup.append(close)
