"""Runs a scenario's steps at their moments on the device clock.

Deadlines are taken from the scenario's start on the clock's monotonic time, so a fast
clock (--speed 60) or a manual one (advance) runs the same steps in the same order, and a
wall clock set forward or back (a step "clock", NTP) does not skip or repeat any. A step
that fails (a 400 of its action at run time, a part that went away) is logged and kept in
the state; the scenario goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from emulator.device.clock import Clock
from emulator.runtime.logs import Logger
from emulator.scenarios.model import Scenario, Step

Dispatch = Callable[[str, dict[str, Any]], Awaitable[Any]]
#: Subscribes a listener to the meter status (its text); returns the unsubscriber.
Watch = Callable[[Callable[[str], None]], Callable[[], None]]
#: Step failures kept in the state (the oldest are dropped).
MAX_ERRORS = 20
#: Meter status changes kept in the state (the oldest are dropped).
MAX_STATUSES = 200


class ScenarioRunner:
    def __init__(self, scenario: Scenario, clock: Clock, dispatch: Dispatch,
                 log: Logger, iso: Callable[[float], str], *,
                 status: Callable[[], str] | None = None, watch: Watch | None = None) -> None:
        self.scenario = scenario
        self.clock = clock
        self._dispatch = dispatch
        self._log = log
        self._iso = iso
        self.done = 0
        self.errors: list[dict[str, Any]] = []
        self._start_mono = clock.monotonic()
        self._start_wall = clock.time()
        self._task: asyncio.Task[None] | None = None
        self.stopped = False
        #: The meter statuses the run went through, from its start: [at_s, status].
        self.statuses: list[tuple[float, str]] = []
        self._status = status
        self._watch = watch
        self._unwatch: Callable[[], None] | None = None

    def start(self) -> None:
        self._start_mono = self.clock.monotonic()
        self._start_wall = self.clock.time()
        if self._status is not None:
            self._on_status(self._status())
        if self._watch is not None:
            self._unwatch = self._watch(self._on_status)
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"scenario {self.scenario.name}")

    @property
    def finished(self) -> bool:
        return self.done == len(self.scenario.steps) or self.stopped

    async def _run(self) -> None:
        self._log.info("scenario %r started: %d steps", self.scenario.name,
                       len(self.scenario.steps))
        for step in self.scenario.steps:
            remaining = self._start_mono + step.at_s - self.clock.monotonic()
            if remaining > 0:
                await self.clock.sleep(remaining)
            await self._do(step)
            self.done += 1
        self._log.info("scenario %r finished", self.scenario.name)

    async def _do(self, step: Step) -> None:
        try:
            await self._dispatch(step.do, dict(step.body))
        except Exception as exc:  # noqa: BLE001 - one failed step must not end the run
            self._log.warning("scenario %r: step at %g s (%s) failed: %s",
                              self.scenario.name, step.at_s, step.do, exc)
            self.errors.append({"at_s": step.at_s, "do": step.do, "error": str(exc)})
            del self.errors[:-MAX_ERRORS]

    def _on_status(self, status: str) -> None:
        if not self.statuses or self.statuses[-1][1] != status:
            elapsed = round(self.clock.monotonic() - self._start_mono, 3)
            self.statuses.append((elapsed, status))
            del self.statuses[:-MAX_STATUSES]

    def state(self) -> dict[str, Any]:
        steps = self.scenario.steps
        upcoming = steps[self.done] if self.done < len(steps) and not self.stopped else None
        return {
            "name": self.scenario.name,
            "seed": self.scenario.seed,
            "started": self._iso(self._start_wall),
            "elapsed_s": round(self.clock.monotonic() - self._start_mono, 3),
            "done": self.done,
            "total": len(steps),
            "next": None if upcoming is None else {"at_s": upcoming.at_s,
                                                   "do": upcoming.do},
            "finished": self.finished,
            "errors": list(self.errors),
            "statuses": [{"at_s": at_s, "status": status} for at_s, status in self.statuses],
        }

    async def stop(self) -> None:
        self.stopped = True
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
