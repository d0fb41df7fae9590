"""What every byte-stream framer shares: a bounded buffer of the bytes not yet framed."""

from __future__ import annotations


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
