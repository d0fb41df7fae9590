"""The net under every decoder's boundary: whatever a meter sends, feed() returns events.

Decoders are written never to raise on input: each cause found (a number that is no
number, an empty APDU, an index past the end) is handled where it arises and gives a typed
`Problem`. This module is the net under that rule, for the cause nobody has found yet: an
exception of a kind that bad input raises is turned into one `DECODER_FAULT` problem, and
the caller resets the decoder's partial state, so the next frame decodes again and the
device never stops. The fuzz tests assert that the net never catches anything.

Programming errors that no input can cause (a misspelt attribute) are not caught: they fail
the tests at once.
"""

from __future__ import annotations

import struct
from typing import Final

from meter_protocols.errors import ProtocolError
from meter_protocols.readings import Problem, ProblemKind, problem

#: What bad input makes Python code raise: indices and keys past the end, conversions of
#: text or numbers that do not fit (ValueError, UnicodeError, OverflowError, decimal's
#: errors), struct.error, nesting too deep, a value of an unexpected type, our own errors.
INPUT_FAULTS: Final = (
    ArithmeticError,
    AssertionError,
    LookupError,
    ProtocolError,
    RecursionError,
    TypeError,
    ValueError,
    struct.error,
)

_DETAIL_LIMIT = 200


def fault(exc: BaseException, where: str, data: bytes = b"") -> Problem:
    """The problem that stands for an exception caught at a decoder's boundary."""
    text = f"{where}: {type(exc).__name__}: {exc}"
    if len(text) > _DETAIL_LIMIT:
        text = text[:_DETAIL_LIMIT - 3] + "..."
    return problem(ProblemKind.DECODER_FAULT, text + " (input dropped, decoder reset)", data)
