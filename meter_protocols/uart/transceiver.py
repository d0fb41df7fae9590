"""The UART's two ends: a transmitter drives the line, a receiver samples it."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from meter_protocols.line import LineSettings, Parity
from meter_protocols.uart.levels import (
    TICK_HZ,
    CleanSource,
    ErrorFlag,
    Levels,
    UartError,
    char_shape,
    to_seconds,
    to_ticks,
)


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
        self._shape = char_shape(settings)
        self._mask = (1 << settings.data_bits) - 1
        self._masked = bytes(b & self._mask for b in range(256))

    @property
    def time(self) -> float:
        """When the last character put on the wire ends."""
        return to_seconds(self._t)

    @property
    def idle_level(self) -> bool:
        return not self._settings.inverted

    def rewind(self, tick: int) -> None:
        """What was to be sent after `tick` is not sent after all (the UART was reset):
        the line is free from `tick` on, if it was busy beyond it."""
        self._t = min(self._t, tick)

    def idle(self, until: float) -> Levels:
        """The line rests at its idle level until `until`."""
        end = max(self._t, to_ticks(until))
        piece = Levels(self._t, end, self.idle_level, (),
                       CleanSource(self._settings, b"", self._t))
        self._t = end
        return piece

    def send(self, data: bytes, at: float | None = None) -> Levels:
        """Put `data` on the wire back to back, starting at `at` (or as soon as the previous
        character ended, if later). Bits beyond the data bits are not sent. The piece's
        edges are computed only if something needs them (see Levels)."""
        start = self._t
        origin = start if at is None else max(start, to_ticks(at))
        settings = self._settings
        if self._mask != 0xFF:
            data = data.translate(self._masked)
        clean = CleanSource(settings, bytes(data), origin, 0, len(data), self._shape)
        end = clean.end_of(len(data) - 1) if data else origin
        self._t = end
        return Levels(start, end, self.idle_level, None, clean)


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
            count = clean.count
            if count:
                self._cursor = clean.end_of(clean.hi - 1) - 1
            return Received(clean.chars, bytes(count))
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


