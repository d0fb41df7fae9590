"""HDLC framing of DLMS (IEC 62056-46): frames between 0x7E flags, and segmentation.

A frame: flag, frame format (type 0xA, segmentation bit S, 11-bit length), destination and
source address (1-4 bytes each, the last byte has bit 0 set), control, HCS, information,
FCS, flag. The length field counts the bytes between the flags, so the end of a frame is
found by length, not by the next 0x7E (the information field may contain 0x7E: DLMS HDLC
does not stuff bytes). Frames that were byte-stuffed all the same (0x7D escapes, as some
converters do) are accepted when the length-based reading fails and the unstuffed bytes
check out.

S set (format 0xA8) means more segments of the same message follow; the last segment has
S clear (0xA0). `HdlcAssembler` joins the information fields of one message.
"""

from __future__ import annotations

from dataclasses import dataclass

from meter_protocols.dlms.crc import crc16_x25, fcs_bytes
from meter_protocols.dlms.link import LLC_HEADERS, MAX_APDU, LinkMessage
from meter_protocols.errors import ProtocolError
from meter_protocols.readings import PROBLEM_DATA_LIMIT, Problem, ProblemKind, problem
from meter_protocols.stream import CutWatch, StreamBuffer

FLAG = 0x7E
ESCAPE = 0x7D
#: Frame format, first byte: type 0xA in the high nibble, bit 3 is the segmentation bit.
FORMAT_TYPE = 0xA0
SEGMENT_BIT = 0x08
MAX_FRAME_LENGTH = 0x7FF
_MIN_FRAME_LENGTH = 7  # format 2 + dest 1 + src 1 + control 1 + FCS 2
#: Bytes kept while looking for the end of one frame (a stuffed frame may double).
MAX_BUFFER = 2 * (MAX_FRAME_LENGTH + 2) + 16


@dataclass(frozen=True, slots=True)
class HdlcFrame:
    segmented: bool  # S bit: more segments of this message follow
    dest: bytes
    src: bytes
    control: int
    info: bytes
    size: int  # bytes on the wire, opening and closing flag included
    stuffed: bool = False

    @property
    def is_i_frame(self) -> bool:
        return self.control & 1 == 0

    @property
    def send_sequence(self) -> int:
        """N(S) of an I frame."""
        return (self.control >> 1) & 7


def _address(body: bytes, pos: int, end: int) -> int:
    """Position after an HDLC address starting at pos, or -1 when it does not end."""
    for i in range(pos, min(pos + 4, end)):
        if body[i] & 1:
            return i + 1
    return -1


def parse_frame(body: bytes, *, wire_size: int | None = None,
                stuffed: bool = False) -> HdlcFrame | Problem:
    """Check and split the bytes between two flags (already unstuffed)."""
    n = len(body)
    if n < _MIN_FRAME_LENGTH or body[0] & 0xF0 != FORMAT_TYPE:
        return problem(ProblemKind.MALFORMED, "not an HDLC frame of type 3", body)
    length = ((body[0] & 0x07) << 8) | body[1]
    if length != n:
        return problem(ProblemKind.MALFORMED, f"length field {length}, frame has {n} bytes",
                       body)
    dest_end = _address(body, 2, n - 3)
    src_end = _address(body, dest_end, n - 3) if dest_end > 0 else -1
    if src_end < 0:
        return problem(ProblemKind.MALFORMED, "HDLC address does not end", body)
    control_end = src_end + 1
    if crc16_x25(body[:n - 2]) != int.from_bytes(body[n - 2:], "little"):
        return problem(ProblemKind.BAD_CRC, "HDLC FCS does not match", body)
    info = b""
    if n > control_end + 2:
        if n < control_end + 4:
            return problem(ProblemKind.MALFORMED, "HDLC frame too short for an HCS", body)
        hcs = int.from_bytes(body[control_end:control_end + 2], "little")
        if crc16_x25(body[:control_end]) != hcs:
            return problem(ProblemKind.BAD_CRC, "HDLC HCS does not match", body)
        info = bytes(body[control_end + 2:n - 2])
    return HdlcFrame(
        segmented=bool(body[0] & SEGMENT_BIT),
        dest=bytes(body[2:dest_end]),
        src=bytes(body[dest_end:src_end]),
        control=body[src_end],
        info=info,
        size=wire_size if wire_size is not None else n + 2,
        stuffed=stuffed,
    )


def _valid_frame_at(buf: bytearray, at: int) -> bool:
    if at + 3 > len(buf) or buf[at + 1] & 0xF0 != FORMAT_TYPE:
        return False
    end = at + (((buf[at + 1] & 0x07) << 8) | buf[at + 2]) + 1
    if end >= len(buf) or buf[end] != FLAG:
        return False
    return isinstance(parse_frame(bytes(buf[at + 1:end])), HdlcFrame)


def unstuff(raw: bytes | bytearray) -> bytes:
    out = bytearray()
    escaped = False
    for byte in raw:
        if escaped:
            out.append(byte ^ 0x20)
            escaped = False
        elif byte == ESCAPE:
            escaped = True
        else:
            out.append(byte)
    return bytes(out)


def _frame_end(buf: bytearray, at: int) -> int | None:
    """For CutWatch: where the closing flag of the frame whose opening flag is at `at`
    must be (None: header not complete, -1: not an HDLC header)."""
    if at + 2 >= len(buf):
        return None
    if buf[at + 1] & 0xF0 != FORMAT_TYPE:
        return -1
    return at + (((buf[at + 1] & 0x07) << 8) | buf[at + 2]) + 1


class HdlcFramer(StreamBuffer):
    """Bytes in, checked frames (or problems) out. Keeps at most MAX_BUFFER bytes.

    Linear in its input however it is chunked: what was learned about the frame at the
    head of the buffer (where the next flag is, whether escapes precede it, whether its
    stuffed reading failed) and about flags inside it (CutWatch) is kept between feeds,
    so no byte is searched twice.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cuts = CutWatch(FLAG, _frame_end, _valid_frame_at)
        self._forget_head(-1)

    def reset(self) -> None:
        super().reset()
        self._cuts.reset()
        self._forget_head(-1)

    def _forget_head(self, head: int) -> None:
        self._head = head  # stream position of the frame the memos below are about
        self._next_flag = -1  # stream position of the first flag after it, once found
        self._searched = head + 1  # stream position up to which that flag was looked for
        self._escape = False  # an escape byte lies between the head and that flag
        self._stuffed_tried = False

    def feed(self, data: bytes) -> list[HdlcFrame | Problem]:
        buf = self._take(data)
        out: list[HdlcFrame | Problem] = []
        while buf:
            start = buf.find(FLAG)
            if start < 0:
                out.append(problem(ProblemKind.UNKNOWN_FORMAT,
                                   f"{len(buf)} bytes outside any HDLC frame", bytes(buf)))
                buf.clear()
                break
            if start > 0:
                out.append(problem(ProblemKind.UNKNOWN_FORMAT,
                                   f"{start} bytes outside any HDLC frame", bytes(buf[:start])))
                del buf[:start]
            while len(buf) > 1 and buf[1] == FLAG:  # inter-frame fill, shared flags
                del buf[0]
            if len(buf) < 3:
                break
            if buf[1] & 0xF0 != FORMAT_TYPE:
                del buf[0]  # a closing flag, or a 0x7E inside garbage
                continue
            length = ((buf[1] & 0x07) << 8) | buf[2]
            if length < _MIN_FRAME_LENGTH:
                del buf[0]
                continue
            if not self._one(buf, length, out):
                break
        if len(buf) > MAX_BUFFER:
            out.append(problem(ProblemKind.OVERSIZE,
                               f"no HDLC frame end within {MAX_BUFFER} bytes", bytes(buf[:64])))
            buf.clear()
        return out

    def _next_flag_after_head(self, buf: bytearray) -> int:
        """Index of the first flag after buf[0] (-1: none yet), searched once per byte."""
        base = self._fed - len(buf)
        if base != self._head:
            self._forget_head(base)
        if self._next_flag < 0:
            at = self._searched - base
            found = buf.find(FLAG, at)
            stop = found if found >= 0 else len(buf)
            self._escape = self._escape or buf.find(ESCAPE, at, stop) >= 0
            self._searched = base + stop
            if found >= 0:
                self._next_flag = base + found
        return self._next_flag - base if self._next_flag >= 0 else -1

    def _one(self, buf: bytearray, length: int, out: list[HdlcFrame | Problem]) -> bool:
        """Try the frame at buf[0]; False when more bytes are needed."""
        end = length + 1  # index of the closing flag
        if len(buf) > end and buf[end] == FLAG:
            out.append(parse_frame(bytes(buf[1:end])))
            del buf[:end]  # the closing flag may open the next frame
            return True
        next_flag = self._next_flag_after_head(buf)
        if next_flag > 0 and self._escape and not self._stuffed_tried:
            self._stuffed_tried = True  # the bytes up to that flag never change
            frame = parse_frame(unstuff(buf[1:next_flag]), wire_size=next_flag + 1,
                                stuffed=True)
            if isinstance(frame, HdlcFrame):
                out.append(frame)
                del buf[:next_flag]
                return True
        if len(buf) <= end:
            # Not complete by its length. A 0x7E further on may be data inside this frame;
            # it was cut off only if a complete, valid frame starts there.
            cut = self._cuts.find(buf, self._fed)
            if cut > 0:
                out.append(problem(ProblemKind.TRUNCATED,
                                   f"HDLC frame cut off after {cut} of {length + 2} bytes",
                                   bytes(buf[:cut])))
                del buf[:cut]
                return True
            return False
        if next_flag < 0 and self._escape and len(buf) < 2 * end + 2:
            return False  # perhaps a stuffed frame whose end has not arrived
        if 0 < next_flag < end:
            out.append(problem(ProblemKind.TRUNCATED,
                               f"HDLC frame cut off after {next_flag} of {length + 2} bytes",
                               bytes(buf[:next_flag])))
        else:
            out.append(problem(ProblemKind.MALFORMED, "HDLC frame without closing flag",
                               bytes(buf[:min(end + 1, PROBLEM_DATA_LIMIT)])))
        del buf[:next_flag if next_flag > 0 else 1]
        return True

    def flush(self) -> list[HdlcFrame | Problem]:
        buf = self._buf
        out: list[HdlcFrame | Problem] = []
        if buf.strip(bytes((FLAG,))):
            out.append(problem(ProblemKind.TRUNCATED, f"{len(buf)} bytes left at end of input",
                               bytes(buf[:64])))
        buf.clear()
        return out


class HdlcAssembler:
    """Joins the information fields of a segmented message (S bit), checking the order.

    A missing segment shows as an I-frame sequence gap; a repeated one as an equal
    information field (or an I-frame sequence repeat). Either drops the whole message and
    the rest of its segments.
    """

    def __init__(self, max_size: int = MAX_APDU) -> None:
        self.max_size = max_size
        self._parts: list[bytes] = []
        self._size = 0
        self._wire = 0
        self._last_ns: int | None = None
        self._skipping = False

    def reset(self) -> None:
        self._drop(skip=False)

    @property
    def in_progress(self) -> bool:
        return bool(self._parts)

    def _drop(self, *, skip: bool) -> None:
        self._parts.clear()
        self._size = 0
        self._wire = 0
        self._last_ns = None
        self._skipping = skip

    def lost(self, *, segmented: bool) -> None:
        """A frame was lost (bad check sequence, cut off): its message cannot be completed.

        The rest of that message is skipped until a final segment or a frame that starts
        a new message (LLC header).
        """
        if self._parts or segmented:
            self._drop(skip=True)

    def push(self, frame: HdlcFrame) -> list[LinkMessage | Problem]:
        out: list[LinkMessage | Problem] = []
        # The first segment of a message starts with the LLC header; continuations do not.
        starts = frame.info[:3] in LLC_HEADERS
        if self._skipping:
            if not starts:
                self._skipping = frame.segmented
                return out
            self._skipping = False
        if not frame.info and not self._parts:
            return out  # a supervisory frame without information
        if self._parts:
            error = ""
            if frame.info == self._parts[-1]:
                error = "repeated HDLC segment"
            elif frame.is_i_frame and self._last_ns is not None \
                    and frame.send_sequence != (self._last_ns + 1) % 8:
                error = (f"HDLC segment N(S)={frame.send_sequence} after "
                         f"N(S)={self._last_ns}: segment missing or repeated")
            elif starts:
                self._drop(skip=False)
                out.append(problem(ProblemKind.SEGMENT_ERROR,
                                   "segmented HDLC message cut off by the next message"))
            if error:
                self._drop(skip=frame.segmented)
                return [problem(ProblemKind.SEGMENT_ERROR, error, frame.info)]
        self._parts.append(frame.info)
        self._size += len(frame.info)
        self._wire += frame.size
        self._last_ns = frame.send_sequence if frame.is_i_frame else None
        if self._size > self.max_size:
            self._drop(skip=frame.segmented)
            out.append(problem(ProblemKind.OVERSIZE,
                               f"segmented HDLC message over {self.max_size} bytes"))
            return out
        if frame.segmented:
            return out
        out.append(LinkMessage(b"".join(self._parts), self._wire, len(self._parts)))
        self._drop(skip=False)
        return out


def build_frame(info: bytes, *, dest: bytes, src: bytes, control: int,
                segmented: bool = False) -> bytes:
    """One frame, flags included."""
    for address in (dest, src):
        if not 1 <= len(address) <= 4 or not address[-1] & 1 \
                or any(b & 1 for b in address[:-1]):
            raise ProtocolError(f"not an HDLC address: {address.hex()}")
    header_len = 2 + len(dest) + len(src) + 1
    length = header_len + (len(info) + 2 if info else 0) + 2
    if length > MAX_FRAME_LENGTH:
        raise ProtocolError(f"HDLC frame of {length} bytes exceeds {MAX_FRAME_LENGTH}")
    fmt = bytes((FORMAT_TYPE | (SEGMENT_BIT if segmented else 0) | (length >> 8),
                 length & 0xFF))
    header = fmt + dest + src + bytes((control,))
    body = header + (fcs_bytes(header) + info if info else b"")
    return b"\x7e" + body + fcs_bytes(body) + b"\x7e"


def build_frames(payload: bytes, *, dest: bytes, src: bytes, control: int,
                 max_info: int = 0) -> bytes:
    """A message as one frame, or as segments of at most `max_info` bytes (0: no limit).

    Consecutive frames share no flag: each has its own opening and closing 0x7E, as most
    meters send them.
    """
    if max_info <= 0 or len(payload) <= max_info:
        return build_frame(payload, dest=dest, src=src, control=control)
    chunks = [payload[i:i + max_info] for i in range(0, len(payload), max_info)]
    return b"".join(
        build_frame(chunk, dest=dest, src=src, control=control,
                    segmented=i < len(chunks) - 1)
        for i, chunk in enumerate(chunks)
    )
