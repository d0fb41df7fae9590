"""What the DLMS decoder says about frames it lost: whether a lost HDLC frame was a segment,
and the problem an APDU that does not parse becomes."""

from __future__ import annotations

from meter_protocols.dlms.axdr import AxdrError, AxdrIncomplete
from meter_protocols.dlms.hdlc import SEGMENT_BIT
from meter_protocols.readings import Problem, ProblemKind, problem

#: Problems that mean a frame was lost (a message being assembled is then incomplete).
LOST_FRAME = frozenset((ProblemKind.BAD_CRC, ProblemKind.TRUNCATED, ProblemKind.MALFORMED))


def hdlc_segmented(data: bytes) -> bool:
    """The S bit of a lost frame, from its bytes (with or without the opening flag);
    True when it cannot be told."""
    fmt = data[1:2] if data[:1] == b"\x7e" else data[:1]
    if not fmt or fmt[0] & 0xF0 != 0xA0:
        return True
    return bool(fmt[0] & SEGMENT_BIT)


def broken(exc: AxdrError, apdu: bytes, segments: int, what: str) -> Problem:
    if segments > 1:
        return problem(ProblemKind.SEGMENT_ERROR,
                       f"{what} from {segments} segments does not fit together: {exc}",
                       apdu[:64])
    kind = ProblemKind.TRUNCATED if isinstance(exc, AxdrIncomplete) else ProblemKind.MALFORMED
    return problem(kind, f"{what}: {exc}", apdu[:64])
