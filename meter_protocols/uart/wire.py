"""The in-process virtual wire (meter UART, faults, reader UART) and what a gateway's
hardware can measure of the line electrically."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Final

from meter_protocols.line import LineSettings
from meter_protocols.uart.faults import Faults, mangle, noise_edges, xor_edges
from meter_protocols.uart.levels import (
    REST,
    STANDARD_BAUDRATES,
    CharShape,
    CleanSource,
    Levels,
    to_seconds,
    to_ticks,
)
from meter_protocols.uart.transceiver import Received, Receiver, Transmitter


@dataclass(frozen=True, slots=True)
class LineProbe:
    """What a gateway can measure on its RX pin without decoding: which level the line rests
    at, and the shortest pulse seen (one bit time of the sender, if noise allowed)."""

    idle_high: bool | None
    shortest_pulse: float | None  # seconds

    @property
    def baudrate(self) -> int | None:
        """The standard baud rate whose bit time is within 6 % of the shortest pulse."""
        if not self.shortest_pulse:
            return None
        estimate = 1.0 / self.shortest_pulse
        best = min(STANDARD_BAUDRATES, key=lambda b: abs(b - estimate) / b)
        return best if abs(best - estimate) / best < 0.06 else None


#: Bytes a meter's UART holds for sending (its FIFO and driver buffer). A frame handed over
#: while the line is free is sent whole, whatever its size; what does not fit while earlier
#: bytes still wait is dropped, as a UART drops what it cannot send.
TX_BUFFER: Final = 1024


@dataclass(slots=True)
class _Monitor:
    """Measures the shortest pulse and the level of the longest rest over the pieces seen."""

    level: bool | None = None
    run_start: int = 0
    rest: tuple[int, bool] | None = None  # (length, level) of the longest stretch
    shortest: int | None = None

    def observe(self, piece: Levels) -> None:
        if self.level is None or self.level != piece.level0:
            self.level = piece.level0
            self.run_start = piece.start
        clean = piece.clean
        if clean is not None and clean.count and not piece.edges_built:
            shape = clean.shape
            if shape.unit is not None:
                self._observe_clean(piece, clean, shape, shape.unit)
                return
        shortest = self.shortest
        for edge in piece.edges:
            width = edge - self.run_start
            self._stretch(width)
            if width > 0 and (shortest is None or width < shortest):
                shortest = width
            self.run_start = edge
            self.level = not self.level
        self._stretch(piece.end - self.run_start)
        self.shortest = shortest

    def _observe_clean(self, piece: Levels, clean: CleanSource, shape: CharShape,
                       unit: int) -> None:
        """What `observe` finds, from the bytes: the runs of a clean character sequence are
        its characters' runs (each character's last run ends at the next start edge), all
        shorter than REST (CharShape.unit is set only then), an even number of toggles each."""
        data, lo, hi = clean.data, clean.lo, clean.hi
        width = clean.tick(lo * shape.length) - self.run_start
        self._stretch(width)
        inner = shape.shortest_inner[data[hi - 1]]
        if hi - lo > 1:
            # One pass in C: each byte replaced by its shortest run, then the least.
            inner = min(inner, min(data[lo:hi - 1].translate(shape.shortest)))  # noqa: PLW3301
        shortest = inner * unit
        if width > 0:
            shortest = min(shortest, width)
        if self.shortest is None or shortest < self.shortest:
            self.shortest = shortest
        last = data[hi - 1]
        self.run_start = clean.tick((hi - 1) * shape.length + shape.toggles[last][-1])
        self._stretch(piece.end - self.run_start)

    def _stretch(self, width: int) -> None:
        assert self.level is not None
        if width >= REST and (self.rest is None or width > self.rest[0]):
            self.rest = (width, self.level)

    def take(self) -> LineProbe:
        idle = None if self.rest is None else self.rest[1]
        probe = LineProbe(idle, None if self.shortest is None else to_seconds(self.shortest))
        self.rest = None
        self.shortest = None
        return probe


# --- the in-process virtual wire ---------------------------------------------------------


class VirtualWire:
    """A meter's UART, the faults on the way, and the reader's UART, in one pure object.

    The meter side calls `send(data, at)`; the reader side calls `read(until)` and gets the
    characters completed by then. Either side may change its settings at any time. The
    meter's side holds at most `tx_buffer` bytes waiting to be sent (TX_BUFFER), and
    changing its settings drops what waits (a UART reset), so a meter set slower than its
    pushes never builds a backlog: `tx_dropped` counts what was dropped.
    """

    def __init__(self, meter: LineSettings, reader: LineSettings, *, start: float = 0.0,
                 faults: Faults | None = None, seed: int = 0, fast_path: bool = True,
                 tx_buffer: int = TX_BUFFER) -> None:
        self.tx_buffer = tx_buffer
        self.tx_dropped = 0
        self._waiting: deque[CleanSource] = deque()  # characters not yet sent, in order
        self._waiting_count = 0
        self._restarted = False
        self._tx = Transmitter(meter, start)
        self._rx = Receiver(reader, fast_path=fast_path)
        self.faults = faults or Faults()
        self.seed = seed
        self._rng = random.Random(seed)
        self._pending: deque[Levels] = deque()
        self._monitor = _Monitor()
        self._noise_flipped = False

    @property
    def meter_settings(self) -> LineSettings:
        return self._tx.settings

    @meter_settings.setter
    def meter_settings(self, settings: LineSettings) -> None:
        if settings != self._tx.settings:
            self._restarted = True  # what waits is dropped at the next send
        self._tx.settings = settings

    @property
    def reader_settings(self) -> LineSettings:
        return self._rx.settings

    @reader_settings.setter
    def reader_settings(self, settings: LineSettings) -> None:
        self._rx.settings = settings

    @property
    def quiet_when_idle(self) -> bool:
        """Whether a resting line gives the reader nothing: no noise, and the reader at the
        meter's settings (a reader of the other polarity sees a break at rest)."""
        return not self.faults.noise and self._rx.settings == self._tx.settings

    def send(self, data: bytes, at: float) -> float:
        """The meter starts sending `data` at `at`; returns when its last bit is on the wire."""
        if self.faults.silent_at(at):
            return at
        data = mangle(data, self.faults, self._rng)
        tick = to_ticks(at)
        if self._restarted:
            self._restarted = False
            self._drop_waiting(tick)
        waiting = self._release(tick)
        if waiting and waiting + len(data) > self.tx_buffer:
            room = max(0, self.tx_buffer - waiting)
            self.tx_dropped += len(data) - room
            data = data[:room]
        if data:
            piece = self._tx.send(data, at)
            if piece.clean is not None:
                self._waiting.append(piece.clean)
                self._waiting_count += piece.clean.count
            self._pending.append(piece)
        return self._tx.time

    def _release(self, tick: int) -> int:
        """Forget the characters sent completely by `tick`; how many still wait."""
        waiting = self._waiting
        while waiting:
            head = waiting[0]
            k = head.ended_by(tick)
            self._waiting_count -= k - head.lo
            if k < head.hi:
                waiting[0] = head.with_range(k, head.hi)
                break
            waiting.popleft()
        return self._waiting_count

    def _drop_waiting(self, tick: int) -> None:
        """The meter restarted its UART at `tick`: characters not finished by then are
        dropped, and the line is free from the end of the last one sent."""
        kept: deque[Levels] = deque()
        for piece in self._pending:
            if piece.end <= tick:
                kept.append(piece)
            elif piece.start < tick:
                first, rest = piece.split(tick)
                self.tx_dropped += rest.clean.count if rest.clean is not None else 0
                kept.append(first)
            elif piece.clean is not None:
                self.tx_dropped += piece.clean.count
        self._pending = kept
        self._waiting.clear()
        self._waiting_count = 0
        self._tx.rewind(kept[-1].end if kept else tick)

    def read(self, until: float) -> Received:
        """Everything the reader's UART has assembled by `until`."""
        tick = to_ticks(until)
        pieces = self._pending
        if self._tx.time < until:
            pieces.append(self._tx.idle(until))
        result = Received()
        while pieces and pieces[0].start < tick:
            piece = pieces.popleft()
            waits = False
            if piece.end > tick:
                piece, rest = piece.split(tick)
                pieces.appendleft(rest)
                if piece.end == piece.start:
                    break
                # A clean rest starts with a character not ended by `tick`: nothing more now.
                waits = rest.clean is not None and rest.clean.count > 0
            piece = self._add_noise(piece)
            self._monitor.observe(piece)
            result = result + self._rx.feed(piece)
            if waits:
                break
        return result

    def probe(self) -> LineProbe:
        """The electrical view of the line since the last probe: the level it rested at
        (None if it never rested 20 ms) and the shortest pulse (None if no pulse)."""
        return self._monitor.take()

    def _add_noise(self, piece: Levels) -> Levels:
        extra: list[int] = []
        for index, burst in enumerate(self.faults.noise):
            extra.extend(noise_edges(burst, index, self.seed, piece.start, piece.end))
        flipped = self._noise_flipped
        if not extra and not flipped:
            return piece
        # A spike may straddle two pieces: the line stays flipped until its second toggle.
        self._noise_flipped = flipped ^ bool(len(extra) & 1)
        return Levels(piece.start, piece.end, piece.level0 ^ flipped,
                      xor_edges(piece.edges, extra))

