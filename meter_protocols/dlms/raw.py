"""APDUs with no link layer around them (a meter, or a converter, that sends bare APDUs).

There is no check sequence and no frame boundary: an APDU ends where its own encoding
says. Bytes that start no APDU are skipped and reported once per run of them.
"""

from __future__ import annotations

from meter_protocols.dlms.apdu import APDU_STARTS, apdu_length
from meter_protocols.dlms.axdr import AxdrError, AxdrIncomplete
from meter_protocols.dlms.link import MAX_APDU, LinkMessage
from meter_protocols.readings import Problem, ProblemKind, problem
from meter_protocols.stream import StreamBuffer


class RawFramer(StreamBuffer):
    def __init__(self, max_size: int = MAX_APDU) -> None:
        super().__init__()
        self.max_size = max_size

    def feed(self, data: bytes) -> list[LinkMessage | Problem]:
        buf = self._buf
        buf += data
        out: list[LinkMessage | Problem] = []
        skipped = bytearray()
        while buf:
            if buf[0] not in APDU_STARTS:
                skipped.append(buf[0])
                del buf[0]
                continue
            try:
                length = apdu_length(buf)
            except AxdrIncomplete:
                if len(buf) > self.max_size:
                    out.append(problem(ProblemKind.OVERSIZE,
                                       f"no APDU end within {self.max_size} bytes",
                                       bytes(buf[:64])))
                    buf.clear()
                break
            except AxdrError:
                skipped.append(buf[0])
                del buf[0]
                continue
            if skipped:
                out.append(_garbage(skipped))
                skipped = bytearray()
            out.append(LinkMessage(bytes(buf[:length]), length))
            del buf[:length]
        if skipped:
            out.insert(0, _garbage(skipped))
        return out

    def flush(self) -> list[LinkMessage | Problem]:
        return list(self.leftover())


def _garbage(skipped: bytearray) -> Problem:
    return problem(ProblemKind.UNKNOWN_FORMAT, f"{len(skipped)} bytes that start no APDU",
                   bytes(skipped))
