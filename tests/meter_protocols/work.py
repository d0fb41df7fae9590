"""Counting work without a clock: Python lines executed inside meter_protocols.

A count is exact and the same on every machine, so tests can compare the work of two
input sizes (linear: about 4x for 4x the bytes; quadratic: 16x) instead of timing them.
Work done inside C functions (bytes.find, CRC tables, AES) is not seen; the decoders keep
such calls linear themselves (each scans bytes not scanned before, or a bounded window).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

_PACKAGE = "meter_protocols"


def lines_executed(action: Callable[[], Any]) -> int:
    """Run `action` and return how many lines of meter_protocols it executed."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_globals.get("__name__", "").startswith(_PACKAGE):
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        action()
    finally:
        sys.settrace(previous)
    return count


def growth(make: Callable[[int], Callable[[], Any]], n: int, factor: int = 4) -> float:
    """Work at size factor*n divided by work at size n (about `factor` when linear)."""
    small = lines_executed(make(n))
    large = lines_executed(make(factor * n))
    return large / max(small, 1)
