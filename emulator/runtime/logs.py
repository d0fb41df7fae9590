"""Logging helpers: a per-device prefix, and a quiet logger for conditions that repeat.

A fleet runs many devices in one process, so every log line of a device carries its id
(`DeviceLog`). A service that retries ("broker unreachable", "card full") would log the same
line every few seconds; `QuietLog` logs the first occurrence of a kind, counts the repeats,
and says how many there were when the condition clears or, at most, once per `period`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any


class DeviceLog(logging.LoggerAdapter[logging.Logger]):
    """A logger whose lines start with `[DEVICEID]`."""

    def __init__(self, logger: logging.Logger, device_id: str) -> None:
        super().__init__(logger, {"device_id": device_id})
        self.device_id = device_id

    def process(self, msg: Any,
                kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return f"[{self.device_id}] {msg}", kwargs


def device_log(name: str, device_id: str) -> DeviceLog:
    return DeviceLog(logging.getLogger(name), device_id)


Logger = logging.Logger | logging.LoggerAdapter[Any]


@dataclass
class _Kind:
    first: float
    last_logged: float
    repeats: int = 0  # occurrences since the last line about this kind


class QuietLog:
    """Log a condition once per kind; count the repeats instead of logging them.

    `problem(kind, msg, *args)` logs at `level` the first time a kind is seen (and again at
    most once per `period`, with the count of the repeats meanwhile); `resolved(kind, msg)`
    logs once that the condition is gone, with how often it was seen.
    """

    def __init__(self, logger: Logger, *, period: float = 300.0, level: int = logging.WARNING,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self._period = period
        self._level = level
        self._now = now
        self._kinds: dict[str, _Kind] = {}
        self.counts: dict[str, int] = {}

    def problem(self, kind: str, msg: str, *args: Any) -> bool:
        """Record one occurrence; returns True when a line was written."""
        now = self._now()
        self.counts[kind] = self.counts.get(kind, 0) + 1
        state = self._kinds.get(kind)
        if state is None:
            self._kinds[kind] = _Kind(first=now, last_logged=now)
            self._log.log(self._level, msg, *args)
            return True
        state.repeats += 1
        if now - state.last_logged >= self._period:
            self._log.log(self._level, msg + " (%d more times since the last report)",
                          *args, state.repeats)
            state.last_logged = now
            state.repeats = 0
            return True
        return False

    def resolved(self, kind: str, msg: str, *args: Any) -> bool:
        """The condition is gone: one INFO line (only if it had been logged)."""
        state = self._kinds.pop(kind, None)
        if state is None:
            return False
        self._log.info(msg + " (seen %d times)", *args, self.counts.get(kind, 0))
        self.counts.pop(kind, None)
        return True

    def active(self) -> list[str]:
        return sorted(self._kinds)
