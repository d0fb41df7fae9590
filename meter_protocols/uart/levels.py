"""Time in ticks, the level stream (`Levels`) and the error flags of received characters."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from enum import IntFlag
from typing import Final

from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings, Parity

#: Ticks per second. A multiple of 2 x 16 x 921600, so every standard baud rate has an exact
#: whole number of ticks per half bit.
TICK_HZ: Final = 73_728_000

#: The baud rates a gateway's UART commonly offers; a measured pulse is mapped to one of them.
STANDARD_BAUDRATES: Final = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class UartError(ProtocolError):
    """Misuse of the line model (a piece of stream going back in time)."""


def to_ticks(seconds: float) -> int:
    return round(seconds * TICK_HZ)


def to_seconds(ticks: int) -> float:
    return ticks / TICK_HZ


class ErrorFlag(IntFlag):
    NONE = 0
    FRAMING = 1
    PARITY = 2
    BREAK = 4


@dataclass(frozen=True, slots=True)
class CleanSource:
    """What a clean piece encodes: the bytes, at which settings, and where each ends."""

    settings: LineSettings
    data: bytes
    ends: tuple[int, ...]  # tick at which each character's last stop bit ends


@dataclass(frozen=True, slots=True)
class Levels:
    """A piece of the level stream over [start, end).

    `level0` is the wire level just before `start` (True = high); `edges` are the instants in
    [start, end) at which the level toggles, ascending.
    """

    start: int
    end: int
    level0: bool
    edges: tuple[int, ...] = ()
    clean: CleanSource | None = None

    @property
    def level_at_end(self) -> bool:
        return self.level0 ^ bool(len(self.edges) & 1)

    def split(self, at: int) -> tuple[Levels, Levels]:
        """Cut at `at` (start <= at <= end). A clean piece is cut after its last character
        that has ended by `at` (or where its first character begins), so both halves stay
        clean; the first half may then end before `at`."""
        at = min(max(at, self.start), self.end)
        clean = self.clean
        if clean is not None and clean.data:
            k = bisect_right(clean.ends, at)
            if k < len(clean.data):
                cut = clean.ends[k - 1] if k else min(at, self.edges[0])
                i = bisect_left(self.edges, cut)
                first = Levels(self.start, cut, self.level0, self.edges[:i],
                               CleanSource(clean.settings, clean.data[:k], clean.ends[:k]))
                second = Levels(cut, self.end, first.level_at_end, self.edges[i:],
                                CleanSource(clean.settings, clean.data[k:], clean.ends[k:]))
                return first, second
        i = bisect_left(self.edges, at)
        first = Levels(self.start, at, self.level0, self.edges[:i], clean)
        rest = None if clean is None else CleanSource(clean.settings, b"", ())
        return first, Levels(at, self.end, first.level_at_end, self.edges[i:], rest)


def half_bits(settings: LineSettings) -> tuple[int, list[tuple[int, ...]]]:
    """Character length in half bits, and for each data value the toggle instants in half
    bits from the start edge (the first toggle is the start edge itself, at 0)."""
    bits_before_stop = 1 + settings.data_bits + (settings.parity is not Parity.NONE)
    length = 2 * bits_before_stop + int(2 * settings.stop_bits)
    table: list[tuple[int, ...]] = []
    for value in range(1 << settings.data_bits):
        bits = [0] + [(value >> k) & 1 for k in range(settings.data_bits)]
        if settings.parity is Parity.EVEN:
            bits.append(value.bit_count() & 1)
        elif settings.parity is Parity.ODD:
            bits.append((value.bit_count() & 1) ^ 1)
        bits.append(1)
        toggles: list[int] = []
        level = 1
        for index, bit in enumerate(bits):
            if bit != level:
                toggles.append(2 * index)
                level = bit
        table.append(tuple(toggles))
    return length, table


