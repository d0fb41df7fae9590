"""Waiting between reconnection attempts."""

from __future__ import annotations


class Backoff:
    """Delays doubling from `first` up to `limit`; `reset()` after a success."""

    def __init__(self, first: float = 0.5, limit: float = 10.0) -> None:
        if first <= 0 or limit < first:
            raise ValueError("backoff: need 0 < first <= limit")
        self.first, self.limit = first, limit
        self._next = first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.limit)
        return delay

    def reset(self) -> None:
        self._next = self.first
