"""Time in ticks, the level stream (`Levels`) and the error flags of received characters."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from enum import IntFlag
from functools import cache
from typing import Final

from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings, Parity

#: Ticks per second. A multiple of 2 x 16 x 921600, so every standard baud rate has an exact
#: whole number of ticks per half bit.
TICK_HZ: Final = 73_728_000

#: The baud rates a gateway's UART commonly offers; a measured pulse is mapped to one of them.
STANDARD_BAUDRATES: Final = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)

#: A stretch of constant level this long is the line at rest, not a character.
REST: Final = TICK_HZ // 50


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
class CharShape:
    """How characters look on the wire at one setting, in half bits from the start edge."""

    length: int  # a character, start to the end of its last stop bit
    toggles: tuple[tuple[int, ...], ...]  # per data value; the first is the start edge, 0
    scale: int  # 2 x baud rate: tick of half bit h from origin = h * TICK_HZ // scale
    #: Per data value, the shortest run of constant level inside the character, with and
    #: without its last run (the stop bit and the 1s before it, which ends only at the next
    #: character's start edge). `shortest` is a bytes.translate table (a run is at most a
    #: character's few dozen half bits; values beyond the data bits never occur, 255), so
    #: the shortest run over many characters is min(chars.translate(shortest)), in C.
    shortest: bytes
    shortest_inner: tuple[int, ...]
    #: Ticks per half bit where that is a whole number and a whole character is shorter than
    #: REST (every standard rate above 600 baud): the line monitor then measures clean
    #: pieces from their bytes, without edges. None otherwise.
    unit: int | None


@cache
def char_shape(settings: LineSettings) -> CharShape:
    length, table = half_bits(settings)
    shortest, inner = [], []
    for toggles in table:
        runs = [b - a for a, b in zip(toggles, (*toggles[1:], length), strict=True)]
        shortest.append(min(runs))
        inner.append(min(runs[:-1]))
    scale = 2 * settings.baudrate
    unit = TICK_HZ // scale if TICK_HZ % scale == 0 and (TICK_HZ // scale) * length < REST \
        else None
    return CharShape(length, tuple(table), scale, bytes(shortest).ljust(256, b"\xff"),
                     tuple(inner), unit)


@dataclass(frozen=True, slots=True)
class CleanSource:
    """What a clean piece encodes: characters `lo` to `hi` - 1 of `data`, sent back to back
    from tick `origin` at `settings`. Pieces cut from one transmission share its `data`; a
    cut only moves `lo` and `hi`, so cutting copies nothing."""

    settings: LineSettings
    data: bytes  # the whole transmission (each byte already limited to the data bits)
    origin: int = 0
    lo: int = 0
    hi: int = 0
    shape_: CharShape | None = None  # char_shape(settings), carried to skip the lookup

    @property
    def shape(self) -> CharShape:
        shape = self.shape_
        return char_shape(self.settings) if shape is None else shape

    @property
    def count(self) -> int:
        return self.hi - self.lo

    @property
    def chars(self) -> bytes:
        return self.data[self.lo:self.hi]

    def tick(self, half_bit: int) -> int:
        """The tick of half bit `half_bit` counted from the transmission's first start edge."""
        return self.origin + (half_bit * TICK_HZ) // (2 * self.settings.baudrate)

    def end_of(self, index: int) -> int:
        """When character `index` (of `data`) ends: the end of its last stop bit."""
        shape = self.shape
        return self.origin + ((index + 1) * shape.length * TICK_HZ) // shape.scale

    def ended_by(self, at: int) -> int:
        """The index of the first character of this piece not ended by tick `at`."""
        shape = self.shape
        length, scale = shape.length, shape.scale
        # end_of(k) <= at  <=>  (k + 1) * length * TICK_HZ <= (at - origin + 1) * scale - 1
        done = ((at - self.origin + 1) * scale - 1) // (length * TICK_HZ)
        return min(max(done, self.lo), self.hi)

    def with_range(self, lo: int, hi: int) -> CleanSource:
        return CleanSource(self.settings, self.data, self.origin, lo, hi, self.shape_)


def build_edges(clean: CleanSource) -> tuple[int, ...]:
    """The toggle instants of a clean piece's characters (the slow path's input)."""
    shape = clean.shape
    table, length, scale, origin = shape.toggles, shape.length, shape.scale, clean.origin
    data = clean.data
    edges: list[int] = []
    for k in range(clean.lo, clean.hi):
        base = k * length
        edges.extend(origin + ((base + h) * TICK_HZ) // scale for h in table[data[k]])
    return tuple(edges)


class Levels:
    """A piece of the level stream over [start, end).

    `level0` is the wire level just before `start` (True = high); `edges` are the instants in
    [start, end) at which the level toggles, ascending. A clean piece (`clean`) may be built
    without its edges: they are computed the first time something asks for them (the
    receiver's slow path, noise, the line monitor where it cannot work from the bytes).
    """

    __slots__ = ("_edges", "clean", "end", "level0", "start")

    def __init__(self, start: int, end: int, level0: bool,
                 edges: tuple[int, ...] | None = (), clean: CleanSource | None = None) -> None:
        if edges is None and clean is None:
            raise UartError("a piece without edges needs the clean source they follow from")
        self.start = start
        self.end = end
        self.level0 = level0
        self._edges = edges
        self.clean = clean

    def __repr__(self) -> str:
        return f"Levels({self.start}, {self.end}, {self.level0}, clean={self.clean!r})"

    @property
    def edges(self) -> tuple[int, ...]:
        edges = self._edges
        if edges is None:
            assert self.clean is not None
            edges = self._edges = build_edges(self.clean)
        return edges

    @property
    def edges_built(self) -> bool:
        return self._edges is not None

    @property
    def level_at_end(self) -> bool:
        if self._edges is None:
            return self.level0  # every character ends at the level it starts from
        return self.level0 ^ bool(len(self._edges) & 1)

    def split(self, at: int) -> tuple[Levels, Levels]:
        """Cut at `at` (start <= at <= end). A clean piece is cut after its last character
        that has ended by `at` (or where its first character begins), so both halves stay
        clean; the first half may then end before `at`."""
        at = min(max(at, self.start), self.end)
        clean = self.clean
        if clean is not None:
            k = clean.ended_by(at)
            if k < clean.hi:
                cut = clean.end_of(k - 1) if k > clean.lo else min(at, clean.end_of(k - 1))
                first = Levels(self.start, cut, self.level0, None, clean.with_range(clean.lo, k))
                return first, Levels(cut, self.end, self.level0, None,
                                     clean.with_range(k, clean.hi))
            return (Levels(self.start, at, self.level0, None, clean),
                    Levels(at, self.end, self.level0, None, clean.with_range(k, k)))
        edges = self.edges
        i = bisect_left(edges, at)
        first = Levels(self.start, at, self.level0, edges[:i], clean)
        rest = None if clean is None else clean.with_range(clean.hi, clean.hi)
        return first, Levels(at, self.end, first.level_at_end, edges[i:], rest)


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
