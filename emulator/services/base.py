"""What a service is, and a base class for services that run a loop and retry.

A `Service` has a name, `start()` (returns once started; long work runs in its own task),
`stop()` (returns once everything it opened is closed) and a typed status on the device's
board. `LoopService` covers the common shape: a `run()` coroutine that does the job until
cancelled (connect, serve, publish). If `run()` raises, the failure is counted, logged once
per kind of error (repeats are counted, not logged), shown on the board as RETRYING, and
`run()` starts again after a backoff. Nothing a service does can take the device down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import MappingProxyType
from typing import ClassVar, Protocol

from emulator.device.core import Device
from emulator.device.service_status import Fact, ServiceState, ServiceStatus
from emulator.runtime.backoff import Backoff
from emulator.runtime.logs import QuietLog, device_log


class Service(Protocol):
    @property
    def name(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LoopService:
    """Base of a service whose work is one long-running `run()` coroutine.

    Subclasses set `name` and implement `run()`; they may override `enabled()` (checked at
    every (re)start: when False the service is DISABLED and `run()` is not called) and use
    `watch(section)` so that a change of a settings section restarts `run()` at once.
    """

    name: ClassVar[str] = "service"
    #: Backoff between failed runs (real seconds: a broker restart is real time).
    backoff_first: ClassVar[float] = 0.5
    backoff_limit: ClassVar[float] = 10.0

    def __init__(self, device: Device) -> None:
        self.device = device
        self.log = device_log(f"emulator.services.{self.name}", device.identity.device_id)
        self.quiet = QuietLog(self.log)
        self._backoff = Backoff(self.backoff_first, self.backoff_limit)
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._failures = 0

    # --- to implement ---------------------------------------------------------------------

    async def run(self) -> None:
        """Do the job until cancelled; raise to be retried after a backoff."""
        raise NotImplementedError

    def enabled(self) -> tuple[bool, str]:
        """Whether to run now, and if not, why (in words)."""
        return True, ""

    async def cleanup(self) -> None:
        """Release what run() left open (called after it ended or was cancelled)."""

    # --- status ---------------------------------------------------------------------------

    def set_status(self, state: ServiceState, detail: str = "", **facts: Fact) -> None:
        board = self.device.services
        old = board.get(self.name)
        since = old.since if old.state is state else self.device.clock.time()
        board.set(self.name, ServiceStatus(state, detail, since, self._failures,
                                           MappingProxyType(dict(facts))))

    @property
    def status(self) -> ServiceStatus:
        return self.device.services.get(self.name)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"service {self.name} {self.device.identity.device_id}")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self._cancel()
        self.set_status(ServiceState.STOPPED)

    def watch(self, section: str) -> None:
        """Restart `run()` whenever this settings section changes (call from start())."""
        self._unsubscribe.append(self.device.settings.subscribe(
            section, lambda _new, _old: self.reload()))

    def reload(self) -> None:
        """Settings changed: end the current run and start again at once."""
        if self._task is None:
            return
        self._backoff.reset()
        old = self._task
        old.cancel()
        self._task = asyncio.get_running_loop().create_task(
            self._after(old), name=f"service {self.name} {self.device.identity.device_id}")

    async def _after(self, old: asyncio.Task[None]) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await old
        await self._supervise()

    async def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _supervise(self) -> None:
        while True:
            on, why = self.enabled()
            if not on:
                self.set_status(ServiceState.DISABLED, why)
                return
            self.set_status(ServiceState.STARTING)
            try:
                await self.run()
                return  # a run that ends by itself is done (a one-shot service)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failures += 1
                kind = type(exc).__name__
                self.quiet.problem(kind, "%s failed: %s", self.name, _words(exc))
                self.log.debug("%s failure", self.name, exc_info=True)
                delay = self._backoff.next()
                self.set_status(ServiceState.RETRYING, f"{_words(exc)}; retrying in {delay:g} s")
            finally:
                with contextlib.suppress(Exception):
                    await self.cleanup()
            await asyncio.sleep(delay)

    def mark_running(self, detail: str = "", **facts: Fact) -> None:
        """run() calls this once it is doing its job; a success resets the backoff."""
        self._backoff.reset()
        for kind in self.quiet.active():
            self.quiet.resolved(kind, "%s works again", self.name)
        self.set_status(ServiceState.RUNNING, detail, **facts)


def _words(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."

