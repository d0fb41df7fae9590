"""General Block Transfer (IEC 62056-5-3, 9.4.6.13), as Landis+Gyr E450/E570 push.

general-block-transfer APDU: tag 0xE0, block control (bit 7 last block, bit 6 streaming,
bits 0-5 window), block number (2 bytes), block number acknowledged (2 bytes), block data
(A-XDR octet string). The blocks of one transfer are numbered from 1; the message is the
concatenation of their data and is itself an APDU (a data-notification or a ciphered one).
"""

from __future__ import annotations

from dataclasses import dataclass

from meter_protocols.dlms.axdr import AxdrError, AxdrIncomplete, decode_length, encode_length
from meter_protocols.dlms.link import MAX_APDU
from meter_protocols.errors import ProtocolError
from meter_protocols.readings import Problem, ProblemKind, problem

TAG = 0xE0
LAST_BLOCK = 0x80
STREAMING = 0x40


@dataclass(frozen=True, slots=True)
class Block:
    last: bool
    streaming: bool
    window: int
    number: int
    acknowledged: int
    data: bytes


def parse_block(apdu: bytes) -> Block:
    """Raises AxdrError (AxdrIncomplete when cut short) on bad input."""
    if len(apdu) < 7 or apdu[0] != TAG:
        raise AxdrIncomplete("general-block-transfer header cut off") if apdu[:1] == b"\xe0" \
            else AxdrError("not a general-block-transfer APDU")
    control = apdu[1]
    length, pos = decode_length(apdu, 6)
    if pos + length > len(apdu):
        raise AxdrIncomplete("block data cut off")
    if pos + length < len(apdu):
        raise AxdrError(f"{len(apdu) - pos - length} bytes after the block data")
    return Block(
        last=bool(control & LAST_BLOCK),
        streaming=bool(control & STREAMING),
        window=control & 0x3F,
        number=int.from_bytes(apdu[2:4], "big"),
        acknowledged=int.from_bytes(apdu[4:6], "big"),
        data=bytes(apdu[pos:pos + length]),
    )


def block_length(buf: bytes | bytearray, pos: int = 0) -> int:
    """Total length of the block APDU at pos (raw framing). Raises AxdrIncomplete."""
    if len(buf) - pos < 7:
        raise AxdrIncomplete("general-block-transfer header cut off")
    length, after = decode_length(bytes(buf[pos + 6:pos + 11]), 0)
    return 6 + after + length


class GbtAssembler:
    """Blocks in, the whole APDU out when the last block arrives."""

    def __init__(self, max_size: int = MAX_APDU) -> None:
        self.max_size = max_size
        self._parts: list[bytes] = []
        self._size = 0
        self._next = 1
        self._skipping = False
        self.blocks = 0  # blocks in the message last completed

    def reset(self) -> None:
        self._parts.clear()
        self._size = 0
        self._next = 1

    def clear(self) -> None:
        """Forget everything, the skipping state too."""
        self.reset()
        self._skipping = False

    @property
    def in_progress(self) -> bool:
        return bool(self._parts)

    def push(self, block: Block) -> list[bytes | Problem]:
        out: list[bytes | Problem] = []
        if self._skipping:  # the rest of a transfer already reported broken
            if block.number != 1:
                self._skipping = not block.last
                return out
            self._skipping = False
        if block.number == 1:
            if self._parts:
                out.append(problem(ProblemKind.SEGMENT_ERROR,
                                   f"GBT transfer restarted after {len(self._parts)} blocks "
                                   "without its last block"))
            self.reset()
        elif block.number != self._next:
            expected = self._next
            self.reset()
            self._skipping = not block.last
            out.append(problem(ProblemKind.SEGMENT_ERROR,
                               f"GBT block {block.number} where {expected} was due",
                               block.data))
            return out
        self._parts.append(block.data)
        self._size += len(block.data)
        self._next += 1
        if self._size > self.max_size:
            self.reset()
            self._skipping = not block.last
            out.append(problem(ProblemKind.OVERSIZE, f"GBT transfer over {self.max_size} bytes"))
        elif block.last:
            out.append(self._finish())
        return out

    def _finish(self) -> bytes:
        whole = b"".join(self._parts)
        self.blocks = len(self._parts)
        self.reset()
        return whole


def build_blocks(apdu: bytes, block_size: int) -> list[bytes]:
    """An APDU cut into streamed general-block-transfer APDUs of `block_size` data bytes."""
    if block_size < 1:
        raise ProtocolError("GBT block size must be positive")
    chunks = [apdu[i:i + block_size] for i in range(0, len(apdu), block_size)] or [b""]
    if len(chunks) > 0xFFFF:
        raise ProtocolError("too many GBT blocks")
    blocks = []
    for number, chunk in enumerate(chunks, start=1):
        control = STREAMING | (LAST_BLOCK if number == len(chunks) else 0)
        blocks.append(bytes((TAG, control)) + number.to_bytes(2, "big") + b"\x00\x00"
                      + encode_length(len(chunk)) + chunk)
    return blocks
