"""Cutting a byte stream into P1 telegrams ("/" ... "!" CRC CRLF), with a bounded buffer.

A telegram ends with its CRC line: four CRC digits after "!" complete it at once, whether
CR LF follows or not; without a CRC (DSMR 2.2/3) the line end or the next "/" does.

dsmr-parser's TelegramBuffer works on text and keeps everything it is given until a
telegram completes; a meter line can deliver endless garbage, so this framer works on
bytes and never holds more than `max_size` bytes of an unfinished telegram.
"""

from __future__ import annotations

from meter_protocols.readings import Problem, ProblemKind, problem
from meter_protocols.stream import StreamBuffer

#: The largest telegram accepted. Real telegrams are 0.4-2 kB; long text messages and
#: many M-Bus channels stay well below this.
MAX_TELEGRAM = 8192
#: "!" + up to four CRC digits + CR LF, with a little slack for padding NULs.
_MAX_TRAILER = 8
_IGNORABLE = b"\r\n\t \x00\xff"
_HEX = frozenset(b"0123456789ABCDEFabcdef")


def _crc_end(buf: bytearray, bang: int) -> int:
    """Where the telegram ends when "!" is followed by four CRC digits, or by fewer (or
    none) and then the next telegram's "/"; 0 when a line end must decide."""
    at = bang + 1
    while at < len(buf) and at - bang <= 4 and buf[at] in _HEX:
        at += 1
    if at - bang == 5:
        return at
    if buf[at:at + 1] == b"/":
        return at
    return 0


class TelegramFramer(StreamBuffer):
    """Linear in its input however it is chunked: the bytes of an unfinished telegram
    that were searched for its end (or a new start) are not searched again."""

    def __init__(self, max_size: int = MAX_TELEGRAM) -> None:
        super().__init__()
        self.max_size = max_size
        self._head = -1  # stream position of the telegram start the next field is about
        self._clear = 0  # stream position up to which its bytes hold no "/" and no "!"

    def reset(self) -> None:
        super().reset()
        self._head = -1

    def feed(self, data: bytes) -> list[bytes | Problem]:
        """Add bytes; return the complete telegrams (bytes) and problems found, in order."""
        buf = self._take(data)
        out: list[bytes | Problem] = []
        while buf:
            start = buf.find(b"/")
            if start < 0:
                self._garbage(bytes(buf), out)
                buf.clear()
                break
            if start > 0:
                self._garbage(bytes(buf[:start]), out)
                del buf[:start]
            base = self._fed - len(buf)
            if base != self._head:
                self._head, self._clear = base, base + 1
            searched = self._clear - base
            restart = buf.find(b"/", searched)
            bang = buf.find(b"!", searched, restart if restart > 0 else len(buf))
            self._clear = base + (bang if bang > 0 else
                                  restart if restart > 0 else len(buf))
            if restart > 0 and bang < 0:
                out.append(problem(ProblemKind.TRUNCATED,
                                   f"telegram cut off after {restart} bytes by a new start",
                                   bytes(buf[:restart])))
                del buf[:restart]
                continue
            if bang < 0 or bang > self.max_size:
                if len(buf) > self.max_size:
                    out.append(problem(ProblemKind.OVERSIZE,
                                       f"no telegram end within {self.max_size} bytes",
                                       bytes(buf[:64])))
                    buf.clear()
                break
            crc_end = _crc_end(buf, bang)
            if crc_end > 0:
                # The CRC line ends the telegram: a meter's last telegram before a pause, or
                # a reader that splits on "!XXXX", has no CR LF after it.
                out.append(bytes(buf[:crc_end]) + b"\r\n")
                del buf[:crc_end]
                continue
            end = buf.find(b"\n", bang)
            if end < 0:
                if len(buf) - bang > _MAX_TRAILER:
                    out.append(problem(ProblemKind.MALFORMED, "no line end after '!' and CRC",
                                       bytes(buf[bang:bang + 16])))
                    del buf[:bang + 1]
                    continue
                break
            if end - bang > _MAX_TRAILER:
                out.append(problem(ProblemKind.MALFORMED, "text after '!' is not a CRC",
                                   bytes(buf[bang:end + 1])))
                del buf[:end + 1]
                continue
            out.append(bytes(buf[:end + 1]))
            del buf[:end + 1]
        return out

    def flush(self) -> list[bytes | Problem]:
        """End of input: a telegram whose CRC arrived but whose line end did not is complete;
        anything else left over is reported and dropped."""
        buf = self._buf
        out: list[bytes | Problem] = []
        bang = buf.find(b"!")
        if buf.startswith(b"/") and bang > 0 and len(buf) - bang <= _MAX_TRAILER:
            out.append(bytes(buf) + b"\r\n")
        elif buf:
            out.append(problem(ProblemKind.TRUNCATED, f"{len(buf)} bytes left at end of input",
                               bytes(buf[:64])))
        buf.clear()
        return out

    @staticmethod
    def _garbage(chunk: bytes, out: list[bytes | Problem]) -> None:
        if chunk.translate(None, _IGNORABLE):
            out.append(problem(ProblemKind.UNKNOWN_FORMAT,
                               f"{len(chunk)} bytes outside any telegram", chunk))
