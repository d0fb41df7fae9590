"""Where an APDU ends in a raw stream (no link layer), found once per byte as bytes arrive.

Ciphered APDUs and general-block-transfer blocks state their length in their header
(apdu.apdu_length). A data-notification does not: its end is where its A-XDR body ends.
Decoding the body again on every chunk of a slow line costs the whole buffer per chunk;
`ApduScanner` walks it once instead, keeping its place between calls: the position of the
next value and, for each open array or structure, how many elements it still owes. Only
the lengths and the tags are looked at; the APDU found is then decoded in full, once.
"""

from __future__ import annotations

from meter_protocols.dlms import axdr
from meter_protocols.dlms.apdu import DATA_NOTIFICATION, _date_time, apdu_length
from meter_protocols.dlms.axdr import AxdrError, AxdrIncomplete, Tag
from meter_protocols.dlms.axdr_compact import compact_array_end
from meter_protocols.dlms.link import LLC_HEADERS

_FIXED_SIZES = {tag: size for tag, (size, _) in axdr._FIXED.items()}
_STRINGS = frozenset((Tag.OCTET_STRING, Tag.VISIBLE_STRING, Tag.UTF8_STRING))
_EMPTY = frozenset((Tag.NULL, Tag.DONT_CARE))


class ApduScanner:
    """The end of the APDU at the start of a growing buffer. Reset it whenever the bytes at
    the start of the buffer change (the framer consumed or skipped some)."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.reset()

    def reset(self) -> None:
        self._length: int | None = None  # a length the header stated
        self._owed: list[int] | None = None  # elements still owed per open container
        self._pos = 0  # where the next value of the body starts
        #: how far into the buffer the scan has looked (what a failure cost)
        self.examined = 0

    def scan(self, buf: bytearray) -> int | None:
        """The APDU's length (LLC header included) once `buf` holds all of it; None while
        more bytes are needed. Raises AxdrError when these bytes start no APDU we read."""
        if self._length is None and self._owed is None:
            self._header(buf)
        if self._length is not None:
            return self._length if len(buf) >= self._length else None
        return self._body(buf)

    def _header(self, buf: bytearray) -> None:
        at = 0
        if buf[:1] == b"\xe6":
            if len(buf) < 3:
                return
            if bytes(buf[:3]) not in LLC_HEADERS:
                raise AxdrError("not an LLC header")
            at = 3
        if len(buf) <= at:
            return
        if buf[at] != DATA_NOTIFICATION:
            try:
                length = apdu_length(buf)
            except AxdrIncomplete:
                return
            if length > self.max_size:
                raise AxdrError(f"an APDU of {length} bytes, at most {self.max_size} read")
            self._length = length
            return
        try:
            _, body = _date_time(bytes(buf[at:at + 20]), 5)
        except AxdrIncomplete:
            self.examined = len(buf)
            return
        self._pos = at + body
        self._owed = [1]  # the notification body: one value

    def _body(self, buf: bytearray) -> int | None:
        owed = self._owed
        if owed is None:
            return None
        pos, n = self._pos, len(buf)
        try:
            while owed:
                if owed[-1] == 0:
                    owed.pop()
                    continue
                if pos >= n:
                    return None
                tag = buf[pos]
                size = _FIXED_SIZES.get(tag)
                if size is not None:
                    end = pos + 1 + size
                elif tag in _STRINGS or tag == Tag.BIT_STRING:
                    length, after = axdr.decode_length(buf, pos + 1)
                    end = after + (length if tag != Tag.BIT_STRING else (length + 7) // 8)
                elif tag in (Tag.ARRAY, Tag.STRUCTURE):
                    if len(owed) > axdr.MAX_DEPTH:
                        raise AxdrError("values nested too deep")
                    count, after = axdr.decode_length(buf, pos + 1)
                    owed[-1] -= 1
                    owed.append(count)
                    pos = after
                    continue
                elif tag in _EMPTY:
                    end = pos + 1
                elif tag == Tag.COMPACT_ARRAY:
                    end = compact_array_end(buf, pos + 1, len(owed) - 1)
                else:
                    raise AxdrError(f"unknown data tag {tag}")
                if end > n:
                    return None
                owed[-1] -= 1
                pos = end
        except AxdrIncomplete:
            return None
        finally:
            self._pos = pos
            self.examined = max(self.examined, pos)
        return pos
