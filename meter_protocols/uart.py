"""A bit-level UART line: bytes put on a wire at the meter's settings, sampled at the reader's.

The wire is a stream of levels in time. `Transmitter` turns bytes into that stream the way a
UART drives its TX pin (idle high, start bit low, data bits LSB first, optional parity, one,
one and a half or two stop bits; the whole line optionally inverted). `Receiver` samples the
stream the way a UART receiver does: it arms on a falling edge, checks the start bit at its
middle (a shorter pulse is rejected as a glitch), samples every data bit, the parity bit and
the first stop bit at their middles at its own baud rate, and reports each character with
its error flags: FRAMING (stop bit low), PARITY (parity bit wrong) and BREAK (start, data,
parity and stop bit all low: the line held low for a whole character). Only the first stop
bit is checked, as 16550-style receivers do. After a character the receiver re-arms at the
middle of that stop bit; a line that stays low produces no new character until it has been
high again (a falling edge is needed), so a long break gives one BREAK character.

Time is integer ticks of 1/TICK_HZ s. Every bit boundary and sampling instant is computed
from the character's own start edge with integer arithmetic, so a long stream accumulates
no rounding drift. The level stream is carried as `Levels` pieces: a start and end tick, the
level just before the start, and the instants at which the level toggles (run lengths, not one
object per bit). Pieces produced by a transmitter without faults also carry the bytes they
encode (`CleanSource`); a receiver that is idle and set exactly as that transmitter (baud
rate, data bits, parity, polarity) returns those bytes directly (the fast path). Everything
else goes through the sampling loop (the slow path), which gives the same answer for equal
settings (a property test holds them equal).

Faults on the wire (`Faults`): bytes dropped or with one bit flipped on the way, noise bursts
(spikes XOR-ed onto the line in a time window, deterministic per seed whatever the read
granularity), and silences (what the meter sends in the window never reaches the line). A
meter that changes its speed is `VirtualWire.meter_settings = ...`. `VirtualWire` ties a
transmitter, the faults and a receiver together for an in-process virtual line; it also
measures what a gateway's hardware can see electrically (`LineProbe`: the idle level and the
shortest pulse, from which a baud rate and the polarity follow).
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections import deque
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


def _half_bits(settings: LineSettings) -> tuple[int, list[tuple[int, ...]]]:
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


class Transmitter:
    """Drives the wire at `settings`; each call returns the piece of stream it produced."""

    def __init__(self, settings: LineSettings, start: float = 0.0) -> None:
        self._t = to_ticks(start)
        self.settings = settings

    @property
    def settings(self) -> LineSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: LineSettings) -> None:
        """Change speed or framing; takes effect from the next character."""
        self._settings = settings
        self._char_half_bits, self._table = _half_bits(settings)
        self._mask = (1 << settings.data_bits) - 1

    @property
    def time(self) -> float:
        """When the last character put on the wire ends."""
        return to_seconds(self._t)

    @property
    def idle_level(self) -> bool:
        return not self._settings.inverted

    def idle(self, until: float) -> Levels:
        """The line rests at its idle level until `until`."""
        end = max(self._t, to_ticks(until))
        piece = Levels(self._t, end, self.idle_level, (),
                       CleanSource(self._settings, b"", ()))
        self._t = end
        return piece

    def send(self, data: bytes, at: float | None = None) -> Levels:
        """Put `data` on the wire back to back, starting at `at` (or as soon as the previous
        character ended, if later). Bits beyond the data bits are not sent."""
        start = self._t
        origin = start if at is None else max(start, to_ticks(at))
        settings = self._settings
        scale = 2 * settings.baudrate
        table, length, mask = self._table, self._char_half_bits, self._mask
        edges: list[int] = []
        ends: list[int] = []
        base = 0
        for byte in data:
            edges.extend(origin + ((base + h) * TICK_HZ) // scale for h in table[byte & mask])
            base += length
            ends.append(origin + (base * TICK_HZ) // scale)
        end = ends[-1] if ends else origin
        self._t = end
        data_sent = data if mask == 0xFF else bytes(b & mask for b in data)
        return Levels(start, end, self.idle_level, tuple(edges),
                      CleanSource(settings, data_sent, tuple(ends)))


@dataclass(frozen=True, slots=True)
class Received:
    """Characters a receiver assembled, each with its ErrorFlag bits in `flags`."""

    data: bytes = b""
    flags: bytes = b""
    framing_errors: int = 0
    parity_errors: int = 0
    breaks: int = 0

    @property
    def errors(self) -> int:
        """Characters with any error."""
        return len(self.flags) - self.flags.count(0)

    def __add__(self, other: Received) -> Received:
        return Received(self.data + other.data, self.flags + other.flags,
                        self.framing_errors + other.framing_errors,
                        self.parity_errors + other.parity_errors, self.breaks + other.breaks)


def compatible(sender: LineSettings, reader: LineSettings) -> bool:
    """True when a reader at `reader` gets exactly what a sender at `sender` sends: the same
    baud rate, data bits, parity and polarity (the receiver checks the first stop bit only)."""
    return (sender.baudrate == reader.baudrate and sender.data_bits == reader.data_bits
            and sender.parity is reader.parity and sender.inverted == reader.inverted)


class Receiver:
    """Samples the level stream at `settings`. Feed pieces in time order; state carries over
    from one piece to the next, so any chunking gives the same characters."""

    def __init__(self, settings: LineSettings, *, fast_path: bool = True) -> None:
        self.fast_path = fast_path
        self._known: int | None = None  # the stream is known up to here
        self._lvl0 = 1  # perceived level before self._edges[0]
        self._edges: list[int] = []
        self._cursor = 0  # armed for falling edges strictly after this tick
        self.settings = settings

    @property
    def settings(self) -> LineSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: LineSettings) -> None:
        """Reconfigure, as a real UART reset does: a character in progress is dropped."""
        self._settings = settings
        h = TICK_HZ
        b2 = 2 * settings.baudrate
        count = 2 + settings.data_bits + (settings.parity is not Parity.NONE)
        self._offs = tuple(((2 * k + 1) * h) // b2 for k in range(count))
        self._invert = int(settings.inverted)
        if self._known is not None:
            self._cursor = max(self._cursor, self._known)

    @property
    def time(self) -> float | None:
        return None if self._known is None else to_seconds(self._known)

    def feed(self, piece: Levels) -> Received:
        known = self._known
        level0 = int(piece.level0) ^ self._invert
        if known is None:
            known = piece.start
            self._lvl0 = level0
            self._cursor = piece.start - 1
        elif piece.start < known:
            raise UartError(f"piece starts at tick {piece.start}, stream known to {known}")
        edges = self._edges
        current = self._lvl0 ^ (len(edges) & 1)
        clean = piece.clean
        if (self.fast_path and clean is not None and current == 1 and level0 == 1
                and not (edges and edges[-1] > self._cursor)
                and compatible(clean.settings, self._settings)):
            edges.clear()
            self._lvl0 = 1
            self._known = piece.end
            if clean.ends:
                self._cursor = clean.ends[-1] - 1
            return Received(clean.data, bytes(len(clean.data)))
        if current != level0:
            edges.append(piece.start)
        edges.extend(piece.edges)
        self._known = piece.end
        return self._decode()

    def _decode(self) -> Received:
        edges = self._edges
        known = self._known
        assert known is not None
        lvl0 = self._lvl0
        offs = self._offs
        settings = self._settings
        data_bits = settings.data_bits
        parity = settings.parity
        last = offs[-1]
        n = len(edges)
        cursor = self._cursor
        out = bytearray()
        flags = bytearray()
        framing = parity_errors = breaks = 0
        i = bisect_right(edges, cursor)
        while True:
            if i < n and ((i + 1) & 1) != lvl0:
                i += 1  # a rising edge: the falling one follows
            if i >= n:
                break
            te = edges[i]
            if te + last >= known:
                break  # this character is not complete yet
            j = bisect_right(edges, te + offs[0], i)
            if (lvl0 ^ j) & 1:
                cursor = te  # high again at mid start bit: a glitch, not a start bit
                i += 1
                continue
            value = 0
            for k in range(data_bits):
                j = bisect_right(edges, te + offs[1 + k], j)
                value |= ((lvl0 ^ j) & 1) << k
            flag = 0
            low = value == 0
            if parity is not Parity.NONE:
                j = bisect_right(edges, te + offs[1 + data_bits], j)
                bit = (lvl0 ^ j) & 1
                expected = (value.bit_count() & 1) ^ (parity is Parity.ODD)
                if bit != expected:
                    flag |= ErrorFlag.PARITY
                    parity_errors += 1
                low = low and not bit
            cursor = te + last
            j = bisect_right(edges, cursor, j)
            if not (lvl0 ^ j) & 1:
                flag |= ErrorFlag.FRAMING
                framing += 1
                if low:
                    flag |= ErrorFlag.BREAK
                    breaks += 1
            out.append(value)
            flags.append(flag)
            i = j
        self._cursor = cursor
        drop = bisect_right(edges, cursor)
        if drop:
            del edges[:drop]
            self._lvl0 = lvl0 ^ (drop & 1)
        return Received(bytes(out), bytes(flags), framing, parity_errors, breaks)


# --- faults ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoiseBurst:
    """Spikes on the line from `start` for `duration` seconds, `rate` spikes per second, each
    between `min_width` and `max_width` seconds wide (XOR-ed onto the signal)."""

    start: float
    duration: float
    rate: float = 2000.0
    min_width: float = 20e-6
    max_width: float = 300e-6


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong between meter and reader. Rates are per byte, 0..1."""

    drop_rate: float = 0.0
    flip_rate: float = 0.0
    noise: tuple[NoiseBurst, ...] = ()
    silences: tuple[tuple[float, float], ...] = ()  # (start, end): nothing the meter sends arrives

    def silent_at(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.silences)


def mangle(data: bytes, faults: Faults, rng: random.Random) -> bytes:
    """Drop bytes and flip one bit of others, at the fault rates."""
    if not data or (faults.drop_rate <= 0 and faults.flip_rate <= 0):
        return data
    out = bytearray()
    for byte in data:
        if faults.drop_rate > 0 and rng.random() < faults.drop_rate:
            continue
        flip = faults.flip_rate > 0 and rng.random() < faults.flip_rate
        out.append(byte ^ (1 << rng.randrange(8)) if flip else byte)
    return bytes(out)


_NOISE_BUCKET: Final = TICK_HZ // 100  # noise is drawn per 10 ms, so chunking does not matter


def noise_edges(burst: NoiseBurst, index: int, seed: int, start: int, end: int) -> list[int]:
    """The toggles `burst` puts on the line in [start, end): spikes that begin inside the
    burst, both of their toggles counted wherever they fall. Deterministic per seed and
    independent of how the stream is cut into pieces."""
    burst_lo = to_ticks(burst.start)
    burst_hi = to_ticks(burst.start + burst.duration)
    wmin, wmax = to_ticks(burst.min_width), max(to_ticks(burst.max_width), 1)
    lo = max(start - wmax, burst_lo)
    hi = min(end, burst_hi)
    if lo >= hi:
        return []
    per_bucket = burst.rate / 100
    out: list[int] = []
    for bucket in range(lo // _NOISE_BUCKET, (hi - 1) // _NOISE_BUCKET + 1):
        rng = random.Random((seed * 1_000_003 + index) * 1_000_003 + bucket)
        count = int(per_bucket) + (rng.random() < per_bucket % 1)
        base = bucket * _NOISE_BUCKET
        for _ in range(count):
            t = base + rng.randrange(_NOISE_BUCKET)
            w = rng.randint(wmin, wmax)
            if not burst_lo <= t < burst_hi:
                continue
            out.extend(edge for edge in (t, t + w) if start <= edge < end)
    return out


def xor_edges(a: tuple[int, ...] | list[int], b: list[int]) -> tuple[int, ...]:
    """Toggle sets combined: the line toggles where either does; equal instants cancel."""
    merged = sorted([*a, *b])
    out: list[int] = []
    for t in merged:
        if out and out[-1] == t:
            out.pop()
        else:
            out.append(t)
    return tuple(out)


# --- the electrical view -----------------------------------------------------------------


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


#: A stretch of constant level this long is the line at rest, not a character.
REST: Final = TICK_HZ // 50


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
    characters completed by then. Either side may change its settings at any time.
    """

    def __init__(self, meter: LineSettings, reader: LineSettings, *, start: float = 0.0,
                 faults: Faults | None = None, seed: int = 0, fast_path: bool = True) -> None:
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
        self._tx.settings = settings

    @property
    def reader_settings(self) -> LineSettings:
        return self._rx.settings

    @reader_settings.setter
    def reader_settings(self, settings: LineSettings) -> None:
        self._rx.settings = settings

    def send(self, data: bytes, at: float) -> float:
        """The meter starts sending `data` at `at`; returns when its last bit is on the wire."""
        if self.faults.silent_at(at):
            return at
        data = mangle(data, self.faults, self._rng)
        self._pending.append(self._tx.send(data, at))
        return self._tx.time

    def read(self, until: float) -> Received:
        """Everything the reader's UART has assembled by `until`."""
        tick = to_ticks(until)
        pieces = self._pending
        if self._tx.time < until:
            pieces.append(self._tx.idle(until))
        result = Received()
        while pieces and pieces[0].start < tick:
            piece = pieces.popleft()
            if piece.end > tick:
                piece, rest = piece.split(tick)
                pieces.appendleft(rest)
                if piece.end == piece.start:
                    break
            piece = self._add_noise(piece)
            self._monitor.observe(piece)
            result = result + self._rx.feed(piece)
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
