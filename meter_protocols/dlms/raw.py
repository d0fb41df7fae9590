"""APDUs with no link layer around them (a meter, or a converter, that sends bare APDUs).

There is no check sequence and no frame boundary: an APDU ends where its own encoding
says. Bytes that start no APDU are skipped and reported once per run of them.

Linear in its input: the end of the APDU at the head is found by a scanner that keeps its
place between feeds (skim.py). A candidate that turns out not to be an APDU is normally
left by one byte, so an APDU starting inside it is still found; each such failure is paid
for from a credit that every byte received refills. Hostile input whose failures cost more
than the credit (starts that each decode far before failing) is then skipped a whole
failed stretch at a time.
"""

from __future__ import annotations

import re

from meter_protocols.dlms.apdu import APDU_STARTS
from meter_protocols.dlms.axdr import AxdrError
from meter_protocols.dlms.link import MAX_APDU, LinkMessage
from meter_protocols.dlms.skim import ApduScanner
from meter_protocols.readings import PROBLEM_DATA_LIMIT, Problem, ProblemKind, problem
from meter_protocols.stream import StreamBuffer

_START = re.compile(b"[" + re.escape(bytes(sorted(APDU_STARTS))) + b"]")
#: Bytes of failed candidates that one received byte pays for, and the most saved up.
CREDIT_PER_BYTE = 8
CREDIT_LIMIT = 4 * MAX_APDU


class RawFramer(StreamBuffer):
    def __init__(self, max_size: int = MAX_APDU) -> None:
        super().__init__()
        self.max_size = max_size
        self._scanner = ApduScanner(max_size)
        self._credit = CREDIT_LIMIT

    def reset(self) -> None:
        super().reset()
        self._scanner.reset()
        self._credit = CREDIT_LIMIT

    def feed(self, data: bytes) -> list[LinkMessage | Problem]:
        buf = self._take(data)
        self._credit = min(CREDIT_LIMIT, self._credit + CREDIT_PER_BYTE * len(data))
        out: list[LinkMessage | Problem] = []
        skipped = bytearray()  # a sample of the current run of skipped bytes
        count = 0  # and its length
        while buf:
            drop = 0
            if buf[0] not in APDU_STARTS:
                found = _START.search(buf)
                drop = found.start() if found is not None else len(buf)
            else:
                try:
                    length = self._scanner.scan(buf)
                except AxdrError:
                    cost = max(self._scanner.examined, 1)
                    self._credit -= cost
                    drop = cost if self._credit < 0 else 1
                else:
                    if length is None:
                        if len(buf) > self.max_size:
                            out.append(problem(ProblemKind.OVERSIZE,
                                               f"no APDU end within {self.max_size} bytes",
                                               bytes(buf[:64])))
                            buf.clear()
                            self._scanner.reset()
                        break
                    if count:
                        out.append(_garbage(count, skipped))
                        skipped, count = bytearray(), 0
                    out.append(LinkMessage(bytes(buf[:length]), length))
                    del buf[:length]
                    self._scanner.reset()
                    continue
            if len(skipped) < PROBLEM_DATA_LIMIT:
                skipped += buf[:min(drop, PROBLEM_DATA_LIMIT - len(skipped))]
            count += drop
            del buf[:drop]
            self._scanner.reset()
        if count:
            out.append(_garbage(count, skipped))
        return out

    def flush(self) -> list[LinkMessage | Problem]:
        self._scanner.reset()
        return list(self.leftover())


def _garbage(count: int, sample: bytearray) -> Problem:
    return problem(ProblemKind.UNKNOWN_FORMAT, f"{count} bytes that start no APDU",
                   bytes(sample))
