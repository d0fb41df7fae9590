"""Cutting a KMP byte stream into frames, with resynchronisation and a bounded buffer.

Outside a frame, 0x80 or 0x40 opens one and a lone 0x06 is an acknowledge; any other byte
is noise, reported once per run. Inside a frame, 0x0D closes it; an unescaped start byte
means the frame was cut off (reported as truncated) and a new one begins. A frame that
grows past `max_frame` bytes is dropped and the framer waits for the next start byte.
"""

from __future__ import annotations

from meter_protocols.kmp.codec import (
    ACK,
    MAX_FRAME,
    STOP,
    Acknowledge,
    Direction,
    Message,
    decode_frame,
)
from meter_protocols.readings import PROBLEM_DATA_LIMIT, Problem, ProblemKind, problem

FramerItem = Message | Acknowledge | Problem

_STARTS = frozenset((Direction.REQUEST, Direction.RESPONSE))


class KmpFramer:
    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._frame: bytearray | None = None  # the frame being received, start byte first
        self._dropping = False  # an oversize frame is being skipped up to its stop byte
        self._noise = bytearray()  # a sample of the current run of noise
        self._noise_count = 0

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished frame (never more than max_frame)."""
        return len(self._frame) if self._frame is not None else 0

    @property
    def in_frame(self) -> bool:
        return self._frame is not None

    def reset(self) -> None:
        self._frame = None
        self._dropping = False
        self._noise.clear()
        self._noise_count = 0

    def flush(self) -> list[FramerItem]:
        """End of input (or the caller gave up waiting): report and drop a partial frame."""
        out: list[FramerItem] = []
        self._end_noise(out)
        if self._frame is not None:
            out.append(problem(ProblemKind.TRUNCATED,
                               f"KMP frame ended after {len(self._frame)} bytes without 0x0D",
                               bytes(self._frame)))
        self._frame = None
        self._dropping = False
        return out

    def feed(self, data: bytes) -> list[FramerItem]:
        """Add bytes; return the frames, acknowledges and problems found, in order."""
        out: list[FramerItem] = []
        for byte in data:
            frame = self._frame
            if byte in _STARTS:
                self._end_noise(out)
                if frame is not None:
                    out.append(problem(ProblemKind.TRUNCATED,
                                       f"KMP frame cut off after {len(frame)} bytes "
                                       "by a new start byte", bytes(frame)))
                self._frame = bytearray((byte,))
                self._dropping = False
            elif frame is not None:
                frame.append(byte)
                if byte == STOP:
                    out.append(decode_frame(bytes(frame)))
                    self._frame = None
                elif len(frame) >= self.max_frame:
                    out.append(problem(ProblemKind.OVERSIZE,
                                       f"no KMP stop byte within {self.max_frame} bytes",
                                       bytes(frame[:64])))
                    self._frame = None
                    self._dropping = True
            elif self._dropping:
                if byte == STOP:
                    self._dropping = False
            elif byte == ACK:
                self._end_noise(out)
                out.append(Acknowledge())
            else:
                self._noise_count += 1
                if len(self._noise) < PROBLEM_DATA_LIMIT:
                    self._noise.append(byte)
        self._end_noise(out)
        return out

    def _end_noise(self, out: list[FramerItem]) -> None:
        if self._noise_count:
            out.append(problem(ProblemKind.UNKNOWN_FORMAT,
                               f"{self._noise_count} bytes outside any KMP frame",
                               bytes(self._noise)))
            self._noise.clear()
            self._noise_count = 0
