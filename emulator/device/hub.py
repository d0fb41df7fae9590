"""The hub: every new report goes to every subscriber, and a slow one delays nobody.

Each subscriber has a small queue of its own; when it is full, the oldest report is
dropped (a live view wants the newest values, not a backlog) and the drop is counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

_LOG = logging.getLogger(__name__)

T = TypeVar("T")


class SubscriptionEnded(Exception):
    """Raised by get() once end() was called: the subscriber should stop."""


_END = object()


class Subscription(Generic[T]):
    def __init__(self, hub: Hub[T], maxsize: int) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self.dropped = 0
        self._ended = False

    def offer(self, item: T) -> None:
        if self._ended:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def get(self) -> T:
        item = await self._queue.get()
        if item is _END:
            raise SubscriptionEnded
        return item  # type: ignore[return-value]

    def end(self) -> None:
        """Wake the subscriber and make its next get() raise SubscriptionEnded."""
        if not self._ended:
            self._ended = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(_END)
        self.close()

    def close(self) -> None:
        self._hub._remove(self)


class Hub(Generic[T]):
    def __init__(self) -> None:
        self._subscriptions: list[Subscription[T]] = []
        self._listeners: list[Callable[[T], None]] = []

    def subscribe(self, maxsize: int = 4) -> Subscription[T]:
        sub = Subscription(self, maxsize)
        self._subscriptions.append(sub)
        return sub

    def add_listener(self, listener: Callable[[T], None]) -> Callable[[], None]:
        """A synchronous listener; it must return at once (schedule work, do not do it)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, item: T) -> None:
        for sub in self._subscriptions:
            sub.offer(item)
        for listener in self._listeners:
            try:
                listener(item)
            except Exception:  # noqa: BLE001 - one broken listener must not starve the others
                _LOG.exception("report listener %r failed", listener)

    def end_all(self) -> None:
        """End every subscription (a reboot drops the device's connections)."""
        for sub in list(self._subscriptions):
            sub.end()

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def _remove(self, sub: Subscription[T]) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)
