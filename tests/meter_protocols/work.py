"""Counting work without a clock: Python lines executed inside meter_protocols.

A count is exact and the same on every machine, so tests can compare the work at several
input sizes instead of timing them.
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


def growth(make: Callable[[int], Callable[[], Any]], n: int) -> float:
    """How the work of the second n bytes compares with the work of the first n, taken over
    sizes n, 2n and 4n: (W(4n) - W(2n)) / (W(2n) - W(n)). About 2 when the work is linear
    (a fixed cost, such as the first frame, cancels out), about 4 when it is quadratic."""
    w1, w2, w4 = (lines_executed(make(k * n)) for k in (1, 2, 4))
    return (w4 - w2) / max(w2 - w1, 1)
