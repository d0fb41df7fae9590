"""What every byte-stream framer shares: a bounded buffer of the bytes not yet framed."""

from __future__ import annotations

from meter_protocols.readings import Problem, ProblemKind, problem


class StreamBuffer:
    """Base of the framers: `_buf` holds the unframed bytes; subclasses keep it bounded."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held for a frame not yet complete."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame (a reconnection, a new line setting)."""
        self._buf.clear()

    def leftover(self) -> list[Problem]:
        """End of input: report the bytes of an unfinished frame, and drop them."""
        out = []
        if self._buf:
            out.append(problem(ProblemKind.TRUNCATED,
                               f"{len(self._buf)} bytes left at end of input",
                               bytes(self._buf[:64])))
        self._buf.clear()
        return out
