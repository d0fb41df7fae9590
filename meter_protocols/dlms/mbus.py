"""DLMS over wired M-Bus long frames (EN 13757-2 link layer), with the DLMS transport.

A long frame: 0x68, L, L, 0x68, C, A, CI, user data, checksum (sum of C..data, mod 256),
0x16; L counts C, A, CI and the user data. Meters that push DLMS this way (Austrian Kaifa
MA309, Polish meters) send C = 0x53 (SND_UD), A = 0xFF (broadcast) and use the CI field as
the transport's segment header: bits 0-3 a sequence number starting at 0 for each message,
bit 4 set on the last segment. Two bytes follow (source and destination TSAP, 0x01 0x67);
the APDU is the concatenation of what follows them in every segment.

Short frames (0x10 ...) and the single-character acknowledgement 0xE5 are skipped quietly.

The Sagemcom T210-D (Netz NÖ) sends a first segment of 257 bytes C..data with L = 0x01
(the length mod 256) and a checksum and stop byte after all 257: when the stop byte is
not where L says, the frame is read as 256 bytes longer, and taken if its checksum holds.
`build_frames(..., length_quirk=True)` sends the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meter_protocols.dlms.link import MAX_APDU, LinkMessage
from meter_protocols.errors import ProtocolError
from meter_protocols.readings import Problem, ProblemKind, problem
from meter_protocols.stream import CutWatch, StreamBuffer

START = 0x68
STOP = 0x16
SHORT_START = 0x10
ACK = 0xE5
C_SND_UD = 0x53
A_BROADCAST = 0xFF
FIN_BIT = 0x10
STSAP = 0x01
DTSAP = 0x67
#: Longest user data per long frame: L is one byte and counts C, A, CI too.
MAX_USER_DATA = 252
#: ... except that a Sagemcom T210-D sends up to 257 bytes (C..data) with L = 257 mod 256.
MAX_QUIRK_LENGTH = 258
MAX_BUFFER = 2 * (MAX_QUIRK_LENGTH + 6)


@dataclass(frozen=True, slots=True)
class MbusFrame:
    control: int
    address: int
    ci: int
    data: bytes  # user data after the CI field
    size: int  # bytes on the wire


def _total(buf: bytearray | bytes, at: int) -> int:
    """Bytes of the long frame at buf[at] (header read): 6 + L, or 256 more when the stop
    byte is not where L puts it (the Sagemcom T210-D writes L mod 256)."""
    length = buf[at + 1]
    total = length + 6
    if length < 3 or (len(buf) - at >= total and buf[at + total - 1] != STOP):
        total += 256
    return total


def _check(buf: bytearray | bytes, at: int) -> MbusFrame | Problem | None:
    """The long frame at buf[at], a problem, or None when more bytes are needed."""
    if len(buf) - at < 4:
        return None
    length = buf[at + 1]
    if buf[at + 2] != length or buf[at + 3] != START:
        return problem(ProblemKind.UNKNOWN_FORMAT, "not an M-Bus long frame header",
                       bytes(buf[at:at + 4]))
    total = _total(buf, at)
    if len(buf) - at < total:
        return None
    frame = bytes(buf[at:at + total])
    if frame[-1] != STOP:
        return problem(ProblemKind.MALFORMED, "M-Bus frame without stop byte 0x16", frame)
    if sum(frame[4:-2]) & 0xFF != frame[-2]:
        return problem(ProblemKind.BAD_CRC, "M-Bus checksum does not match", frame)
    return MbusFrame(frame[4], frame[5], frame[6], frame[7:-2], total)


def _frame_last(buf: bytearray, at: int) -> int | None:
    """For CutWatch: index of the last byte of the long frame whose header is at `at`."""
    if len(buf) - at < 4:
        return None
    length = buf[at + 1]
    if buf[at + 2] != length or buf[at + 3] != START or length < 3:
        return -1
    return at + length + 5


def _valid_at(buf: bytearray, at: int) -> bool:
    return isinstance(_check(buf, at), MbusFrame)


class MbusFramer(StreamBuffer):
    """Bytes in, checked long frames (or problems) out. Keeps at most MAX_BUFFER bytes.

    Linear in its input however it is chunked: each 0x68 inside an unfinished frame is
    checked once, when its own frame is complete (CutWatch).
    """

    def __init__(self) -> None:
        super().__init__()
        self._cuts = CutWatch(START, _frame_last, _valid_at)

    def reset(self) -> None:
        super().reset()
        self._cuts.reset()

    def feed(self, data: bytes) -> list[MbusFrame | Problem]:
        buf = self._take(data)
        out: list[MbusFrame | Problem] = []
        while buf:
            start = _next_start(buf, 0)
            if start < 0:
                self._garbage(buf, len(buf), out)
                break
            if start > 0:
                self._garbage(buf, start, out)
            if buf[0] == ACK:
                del buf[:1]
                continue
            if buf[0] == SHORT_START:
                if len(buf) < 5:
                    break
                del buf[:5 if buf[4] == STOP else 1]
                continue
            result = _check(buf, 0)
            if result is None:
                cut = self._cut_off(buf)
                if cut > 0:
                    out.append(problem(ProblemKind.TRUNCATED,
                                       f"M-Bus frame cut off after {cut} bytes", bytes(buf[:cut])))
                    del buf[:cut]
                    continue
                break
            out.append(result)
            if isinstance(result, MbusFrame):
                del buf[:result.size]
            elif result.kind is ProblemKind.BAD_CRC:
                del buf[:_total(buf, 0)]  # the whole frame (a problem keeps 256 bytes)
            else:
                del buf[:1]
        if len(buf) > MAX_BUFFER:
            out.append(problem(ProblemKind.OVERSIZE, "M-Bus buffer overflow", bytes(buf[:64])))
            buf.clear()
        return out

    def _cut_off(self, buf: bytearray) -> int:
        """Where a complete, valid frame starts inside an incomplete one (0: none)."""
        return self._cuts.find(buf, self._fed)

    @staticmethod
    def _garbage(buf: bytearray, n: int, out: list[MbusFrame | Problem]) -> None:
        out.append(problem(ProblemKind.UNKNOWN_FORMAT, f"{n} bytes outside any M-Bus frame",
                           bytes(buf[:n])))
        del buf[:n]

    def flush(self) -> list[MbusFrame | Problem]:
        return list(self.leftover())


_STARTS = re.compile(b"[" + re.escape(bytes((START, SHORT_START, ACK))) + b"]")


def _next_start(buf: bytearray, at: int) -> int:
    """Index of the next byte that can start something on an M-Bus line, or -1 (one
    search up to the first of them, not one search of the whole buffer per marker)."""
    found = _STARTS.search(buf, at)
    return found.start() if found is not None else -1


class MbusAssembler:
    """Joins DLMS transport segments; a sequence gap or repeat drops the message."""

    def __init__(self, max_size: int = MAX_APDU) -> None:
        self.max_size = max_size
        self._parts: list[bytes] = []
        self._size = 0
        self._wire = 0
        self._next_seq = 0
        self._skipping = False

    def reset(self) -> None:
        self._drop(skip=False)

    def _drop(self, *, skip: bool) -> None:
        self._parts.clear()
        self._size = 0
        self._wire = 0
        self._next_seq = 0
        self._skipping = skip

    def lost(self, *, last: bool | None) -> None:
        """A frame was lost; `last`: whether it was the final segment, if known."""
        if self._parts or last is False:
            self._drop(skip=last is not True)

    def push(self, frame: MbusFrame) -> list[LinkMessage | Problem]:
        if frame.ci > 0x1F:
            return [problem(ProblemKind.UNKNOWN_FORMAT,
                            f"M-Bus CI 0x{frame.ci:02X} carries no DLMS transport segment",
                            frame.data)]
        seq, last = frame.ci & 0x0F, bool(frame.ci & FIN_BIT)
        if self._skipping:
            if seq == 0:
                self._skipping = False  # a new message begins
            else:
                if last:
                    self._skipping = False
                return []
        if seq != self._next_seq:
            expected = self._next_seq
            self._drop(skip=not last)
            return [problem(ProblemKind.SEGMENT_ERROR,
                            f"M-Bus segment {seq} where {expected} was due", frame.data)]
        body = frame.data[2:] if len(frame.data) >= 2 else b""
        self._parts.append(body)
        self._size += len(body)
        self._wire += frame.size
        self._next_seq = (seq + 1) & 0x0F
        if self._size > self.max_size:
            self._drop(skip=not last)
            return [problem(ProblemKind.OVERSIZE, f"M-Bus message over {self.max_size} bytes")]
        if not last:
            return []
        message = LinkMessage(b"".join(self._parts), self._wire, len(self._parts))
        self._drop(skip=False)
        return [message]


def build_frames(payload: bytes, *, segment_size: int = 245, control: int = C_SND_UD,
                 address: int = A_BROADCAST, length_quirk: bool = False) -> bytes:
    """An APDU as DLMS transport segments in long frames.

    `length_quirk`: segments may carry up to 252 bytes of APDU (257 bytes C..data) with
    L written mod 256, as the Sagemcom T210-D does.
    """
    limit = MAX_QUIRK_LENGTH - 6 if length_quirk else MAX_USER_DATA - 2
    if not 1 <= segment_size <= limit:
        raise ProtocolError(f"M-Bus segment size must be 1..{limit}")
    chunks = [payload[i:i + segment_size] for i in range(0, len(payload), segment_size)] \
        or [b""]
    if len(chunks) > 16:
        raise ProtocolError("an APDU this long needs more than 16 M-Bus segments")
    out = bytearray()
    for seq, chunk in enumerate(chunks):
        ci = seq | (FIN_BIT if seq == len(chunks) - 1 else 0)
        user = bytes((control, address, ci, STSAP, DTSAP)) + chunk
        length = len(user) & 0xFF
        out += bytes((START, length, length, START)) + user
        out += bytes((sum(user) & 0xFF, STOP))
    return bytes(out)
