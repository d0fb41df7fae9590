"""The detector's accumulators: what one candidate's window has received, and the lock."""

from __future__ import annotations

import itertools
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from meter_protocols.detect.evidence import Evidence, analyse
from meter_protocols.detect.outcome import TryRecord
from meter_protocols.detect.plan import BURST_GAP, SLOWEST_INTERVAL, Candidate
from meter_protocols.status import silence_limit
from meter_protocols.uart import ErrorFlag

#: Bytes kept per window for judging and for replay into a decoder of another family.
WINDOW_BYTES: Final = 16384

# --- internal accumulators -----------------------------------------------------------------


@dataclass(slots=True)
class Window:
    """What arrived while one candidate was applied (or, when locked, since the last frame)."""

    candidate: Candidate
    started: float
    data: bytearray = field(default_factory=bytearray)
    flags: bytearray | None = None
    has_flags: bool = False
    count: int = 0
    framing: int = 0
    parity: int = 0
    breaks: int = 0
    frames: int = 0
    crc: int = 0
    decrypt: int = 0
    first_byte: float | None = None
    last_byte: float | None = None
    burst_start: float | None = None
    burst_bytes: int = 0
    burst_first_chunk: int = 0
    burst_last_flag: int = 0
    burst_open: bool = False
    bursts: int = 0
    bursts_ending_in_break: int = 0
    burst_starts: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    strikes: int = 0
    renewed: float | None = None  # a clean burst without a frame restarts the wait

    def add(self, data: bytes, flags: bytes | None, now: float) -> None:
        if self.last_byte is not None and now - self.last_byte >= BURST_GAP:
            self.close_burst()
        if not self.burst_open:
            self.burst_open = True
            self.burst_start = now
            self.burst_bytes = 0
            self.burst_first_chunk = len(data)
            self.burst_starts.append(now)
        self.burst_bytes += len(data)
        self.count += len(data)
        if self.first_byte is None:
            self.first_byte = now
        self.last_byte = now
        self.data += data
        if flags is not None:
            self.has_flags = True
            if self.flags is None:
                self.flags = bytearray(len(self.data) - len(data))
            self.flags += flags
            self.framing += sum(1 for f in flags if f & ErrorFlag.FRAMING) if any(flags) else 0
            self.parity += sum(1 for f in flags if f & ErrorFlag.PARITY) if any(flags) else 0
            self.breaks += sum(1 for f in flags if f & ErrorFlag.BREAK) if any(flags) else 0
            if flags:
                self.burst_last_flag = flags[-1]
        elif self.flags is not None:
            self.flags += bytes(len(data))
        if len(self.data) > WINDOW_BYTES:
            cut = len(self.data) - WINDOW_BYTES
            del self.data[:cut]
            if self.flags is not None:
                del self.flags[:cut]

    def close_burst(self) -> None:
        if not self.burst_open:
            return
        self.burst_open = False
        self.bursts += 1
        if self.burst_last_flag & ErrorFlag.BREAK:
            self.bursts_ending_in_break += 1
        if (self.burst_start is not None and self.last_byte is not None
                and self.last_byte - self.burst_start >= 0.1):
            rate = (self.burst_bytes - self.burst_first_chunk) / (self.last_byte
                                                                  - self.burst_start)
            if rate > 0:
                self.rates.append(rate)

    def interval(self) -> float | None:
        starts = self.burst_starts
        if len(starts) < 2:
            return None
        return statistics.median(b - a for a, b in itertools.pairwise(starts))

    def evidence(self) -> Evidence:
        flags = bytes(self.flags) if self.has_flags and self.flags is not None else None
        rate = statistics.median(self.rates) if self.rates else None
        return analyse(bytes(self.data), flags, self.candidate.line, chars_per_second=rate,
                       bursts=self.bursts, bursts_ending_in_break=self.bursts_ending_in_break)

    def record(self, now: float, verdict: str) -> TryRecord:
        c = self.candidate
        return TryRecord(str(c.line), c.family.value, self.started, now - self.started,
                         self.count, self.framing, self.parity, self.breaks, self.frames,
                         self.crc, self.decrypt, verdict)


@dataclass(slots=True)
class Lock:
    candidate: Candidate
    since: float
    last_good: float
    last_byte: float
    frame_times: deque[float] = field(default_factory=lambda: deque(maxlen=9))
    #: The frame times interval() last saw, and its answer (asked at every read, while
    #: the times change once a frame).
    _seen: tuple[tuple[float, ...], float | None] = field(default=((), None), repr=False)

    def interval(self) -> float | None:
        times = tuple(self.frame_times)
        seen, answer = self._seen
        if times == seen:
            return answer
        answer = None if len(times) < 2 else \
            statistics.median(b - a for a, b in itertools.pairwise(times))
        self._seen = (times, answer)
        return answer

    def patience(self) -> float:
        """How long a locked line may go without bytes (NO DATA) or without frames (re-detect)."""
        return silence_limit(self.interval() or SLOWEST_INTERVAL[self.candidate.family])


