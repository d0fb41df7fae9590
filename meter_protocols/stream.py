"""What every byte-stream framer shares: a bounded buffer of the bytes not yet framed."""

from __future__ import annotations

import heapq
from collections.abc import Callable

from meter_protocols.readings import Problem, ProblemKind, problem


class StreamBuffer:
    """Base of the framers: `_buf` holds the unframed bytes; subclasses keep it bounded.

    Subclasses append with `_take(data)` and delete only from the front, so the stream
    position of `_buf[0]` is always `_fed - len(_buf)`; memos keyed by stream positions
    (CutWatch) survive the deletions without being told.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._fed = 0  # bytes appended since the last reset

    @property
    def buffered(self) -> int:
        """Bytes held for a frame not yet complete."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame (a reconnection, a new line setting)."""
        self._buf.clear()
        self._fed = 0

    def _take(self, data: bytes) -> bytearray:
        self._buf += data
        self._fed += len(data)
        return self._buf

    def leftover(self) -> list[Problem]:
        """End of input: report the bytes of an unfinished frame, and drop them."""
        out = []
        if self._buf:
            out.append(problem(ProblemKind.TRUNCATED,
                               f"{len(self._buf)} bytes left at end of input",
                               bytes(self._buf[:64])))
        self._buf.clear()
        return out


#: (buffer, index of a start byte) -> index of the last byte of the frame its header
#: announces; None while the header is not complete, -1 when it is no frame header.
EndOf = Callable[[bytearray, int], int | None]
#: (buffer, index of a start byte whose frame is complete) -> whether it is a valid frame.
Valid = Callable[[bytearray, int], bool]


class CutWatch:
    """Finds a complete, valid frame that starts inside an unfinished one.

    A framer whose first frame is not complete yet (by its length field) must tell a start
    byte inside it that is data from one that opens the next frame (the first was cut off).
    Asking that of every start byte on every feed costs the whole buffer per feed; this
    examines each start byte once, keeps the end its header announces, and checks it once,
    when that many bytes have arrived. Positions are stream positions (the framer's `_fed`
    minus its buffer length is the position of the buffer's first byte), so deleting from the
    front of the buffer needs no bookkeeping.
    """

    def __init__(self, marker: int, end_of: EndOf, valid: Valid) -> None:
        self._marker = marker
        self._end_of = end_of
        self._valid = valid
        self.reset()

    def reset(self) -> None:
        self._scanned = 0  # stream positions before this were examined
        self._waiting: list[tuple[int, int]] = []  # heap of (last byte, start), in stream

    def find(self, buf: bytearray, fed: int) -> int:
        """Index in `buf` of the first start byte after buf[0] that opens a complete, valid
        frame, or 0 when there is none (yet)."""
        base = fed - len(buf)
        at = max(self._scanned - base, 1)
        while (at := buf.find(self._marker, at)) >= 0:
            last = self._end_of(buf, at)
            if last is None:
                break  # its header is cut: look again when more bytes are in
            if last >= 0:
                heapq.heappush(self._waiting, (base + last, base + at))
            at += 1
        self._scanned = base + (at if at >= 0 else len(buf))
        found = 0
        waiting = self._waiting
        while waiting and waiting[0][0] < fed:
            _, start = heapq.heappop(waiting)
            index = start - base
            if index > 0 and (found == 0 or index < found) and self._valid(buf, index):
                found = index
        return found
