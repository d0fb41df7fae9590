"""A-XDR encoding of COSEM `Data` values (IEC 62056-6-2), both directions.

Our own codec rather than gurux-dlms: push frames only ever carry the `Data` CHOICE, which
is a few dozen lines to read; doing it here keeps the hot path free of gurux's object
model and its pure-Python byte buffers, lets us bound depth and element counts on hostile
input, and tells "ran out of bytes" (wait for more) apart from "not A-XDR" (reject).
gurux-dlms serves as the independent oracle in the tests and the benchmark.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from enum import IntEnum
from typing import Any, Final, NamedTuple

from meter_protocols.errors import ProtocolError


class AxdrError(ProtocolError):
    """The bytes are not a valid A-XDR encoding."""


class AxdrIncomplete(AxdrError):
    """The bytes end before the encoding does (a stream may still bring the rest)."""


class Tag(IntEnum):
    NULL = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOLEAN = 3
    BIT_STRING = 4
    INT32 = 5  # double-long
    UINT32 = 6  # double-long-unsigned
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    UTF8_STRING = 12
    BCD = 13
    INT8 = 15  # integer
    INT16 = 16  # long
    UINT8 = 17  # unsigned
    UINT16 = 18  # long-unsigned
    COMPACT_ARRAY = 19
    INT64 = 20  # long64
    UINT64 = 21  # long64-unsigned
    ENUM = 22
    FLOAT32 = 23
    FLOAT64 = 24
    DATE_TIME = 25
    DATE = 26
    TIME = 27
    DELTA_INT8 = 28
    DELTA_INT16 = 29
    DELTA_INT32 = 30
    DELTA_UINT8 = 31
    DELTA_UINT16 = 32
    DELTA_UINT32 = 33
    DONT_CARE = 255


DataValue = int | float | bool | bytes | str | None | tuple["Data", ...]


class Data(NamedTuple):
    """One decoded value: its tag, its Python value and its size.

    `size` is the payload length in bytes for scalars and strings (bits for a bit-string)
    and the number of elements for arrays and structures, as /api/v1/report/objects
    reports it. Octet strings, date-times and BCD stay `bytes`; visible and UTF-8 strings
    become `str`; arrays and structures hold a tuple of Data.

    A named tuple rather than a frozen dataclass: a push decodes a hundred of these, and
    a frozen dataclass's constructor (three guarded attribute writes) was a third of the
    A-XDR decoding time. Immutable and hashable all the same.
    """

    tag: int
    value: DataValue
    size: int = 0

    @property
    def items(self) -> tuple[Data, ...]:
        """The elements of an array or structure; () for anything else."""
        value = self.value
        return value if isinstance(value, tuple) else ()

    @property
    def is_number(self) -> bool:
        return self.tag in _NUMERIC_TAGS

    @property
    def is_container(self) -> bool:
        return self.tag in _CONTAINER_TAGS


#: Builds a Data from (tag, value, size) without NamedTuple's argument handling.
_new_data: Final = tuple.__new__


#: Scalars of fixed size: tag -> (size, struct format or None for raw bytes).
_FIXED: Final[dict[int, tuple[int, struct.Struct | None]]] = {
    Tag.BOOLEAN: (1, None),
    Tag.INT32: (4, struct.Struct(">i")),
    Tag.UINT32: (4, struct.Struct(">I")),
    Tag.BCD: (1, None),
    Tag.INT8: (1, struct.Struct(">b")),
    Tag.INT16: (2, struct.Struct(">h")),
    Tag.UINT8: (1, struct.Struct(">B")),
    Tag.UINT16: (2, struct.Struct(">H")),
    Tag.INT64: (8, struct.Struct(">q")),
    Tag.UINT64: (8, struct.Struct(">Q")),
    Tag.ENUM: (1, struct.Struct(">B")),
    Tag.FLOAT32: (4, struct.Struct(">f")),
    Tag.FLOAT64: (8, struct.Struct(">d")),
    Tag.DATE_TIME: (12, None),
    Tag.DATE: (5, None),
    Tag.TIME: (4, None),
    Tag.DELTA_INT8: (1, struct.Struct(">b")),
    Tag.DELTA_INT16: (2, struct.Struct(">h")),
    Tag.DELTA_INT32: (4, struct.Struct(">i")),
    Tag.DELTA_UINT8: (1, struct.Struct(">B")),
    Tag.DELTA_UINT16: (2, struct.Struct(">H")),
    Tag.DELTA_UINT32: (4, struct.Struct(">I")),
}
_NUMERIC_TAGS: Final = frozenset(
    t for t, (_, fmt) in _FIXED.items() if fmt is not None and t != Tag.ENUM
)
#: The tags whose values are numbers (Data.is_number).
NUMERIC_TAGS: Final = _NUMERIC_TAGS
_STRING_TAGS: Final = frozenset((Tag.OCTET_STRING, Tag.VISIBLE_STRING, Tag.UTF8_STRING))
_CONTAINER_TAGS: Final = frozenset((Tag.ARRAY, Tag.STRUCTURE, Tag.COMPACT_ARRAY))

#: Nesting deeper than this is not a meter's push; it is an attack or noise.
MAX_DEPTH = 12


def decode_length(buf: bytes | bytearray, pos: int) -> tuple[int, int]:
    """A-XDR/BER length at pos: (length, position after it)."""
    if pos >= len(buf):
        raise AxdrIncomplete("length expected")
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    n = first & 0x7F
    if n == 0 or n > 4:
        raise AxdrError(f"length of {n} bytes is not supported")
    end = pos + 1 + n
    if end > len(buf):
        raise AxdrIncomplete("length cut off")
    return int.from_bytes(buf[pos + 1:end], "big"), end


def encode_length(n: int) -> bytes:
    if n < 0:
        raise ProtocolError("negative length")
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def decode(buf: bytes, pos: int = 0) -> tuple[Data, int]:
    """Decode one Data value at pos; return it and the position after it."""
    return _decode(buf, pos, 0)


def decode_all(buf: bytes) -> Data:
    """Decode a buffer that holds exactly one Data value."""
    value, end = _decode(buf, 0, 0)
    if end != len(buf):
        raise AxdrError(f"{len(buf) - end} bytes after the value")
    return value


def _decode(buf: bytes, pos: int, depth: int) -> tuple[Data, int]:
    if pos >= len(buf):
        raise AxdrIncomplete("tag expected")
    return _payload(buf[pos], buf, pos + 1, depth)


#: Numbers of fixed size: tag -> (size, unpack_from), for the decoder's fast path.
_NUMBERS: Final[dict[int, tuple[int, Callable[[bytes, int], tuple[Any, ...]]]]] = {
    tag: (size, fmt.unpack_from) for tag, (size, fmt) in _FIXED.items() if fmt is not None
}
_OCTETS: Final = int(Tag.OCTET_STRING)
_ARRAY: Final = int(Tag.ARRAY)
_STRUCTURE: Final = int(Tag.STRUCTURE)
_NESTED: Final = frozenset((_ARRAY, _STRUCTURE))


def _payload(tag: int, buf: bytes, pos: int, depth: int) -> tuple[Data, int]:
    """Decode the value of type `tag` whose bytes start at pos (after the tag)."""
    size_total = len(buf)
    number = _NUMBERS.get(tag)
    if number is not None:
        size, unpack = number
        end = pos + size
        if end > size_total:
            raise AxdrIncomplete(f"tag {tag} needs {size} bytes")
        return _new_data(Data, (tag, unpack(buf, pos)[0], size)), end
    if tag in _NESTED:
        return _container(tag, buf, pos, depth)
    fixed = _FIXED.get(tag)
    if fixed is not None:
        size = fixed[0]
        end = pos + size
        if end > size_total:
            raise AxdrIncomplete(f"tag {tag} needs {size} bytes")
        if tag == Tag.BOOLEAN:
            return Data(tag, buf[pos] != 0, 1), end
        return Data(tag, bytes(buf[pos:end]), size), end
    if tag in _STRING_TAGS:
        length, pos = decode_length(buf, pos)
        end = pos + length
        if end > size_total:
            raise AxdrIncomplete(f"string of {length} bytes cut off")
        raw = bytes(buf[pos:end])
        if tag == Tag.OCTET_STRING:
            return Data(tag, raw, length), end
        return Data(tag, raw.decode("utf-8" if tag == Tag.UTF8_STRING else "latin-1",
                                    errors="replace"), length), end
    if tag == Tag.NULL:
        return Data(tag, None, 0), pos
    if tag == Tag.DONT_CARE:
        return Data(tag, None, 0), pos
    if tag == Tag.BIT_STRING:
        bits, pos = decode_length(buf, pos)
        end = pos + (bits + 7) // 8
        if end > size_total:
            raise AxdrIncomplete("bit-string cut off")
        return Data(tag, bytes(buf[pos:end]), bits), end
    if tag == Tag.COMPACT_ARRAY:
        # Imported here: axdr_compact builds on this module (rare in pushes, so no cost).
        from meter_protocols.dlms.axdr_compact import decode_compact  # noqa: PLC0415
        return decode_compact(buf, pos, depth)
    raise AxdrError(f"unknown data tag {tag}")


def _container(tag: int, buf: bytes, pos: int, depth: int) -> tuple[Data, int]:
    """An array or structure whose element count starts at pos. Numbers and short octet
    strings (most elements of a push) are read in the loop itself; the rest recurse."""
    if depth >= MAX_DEPTH:
        raise AxdrError("values nested too deep")
    size_total = len(buf)
    if pos < size_total and buf[pos] < 0x80:  # a one-byte count (decode_length, inlined)
        count = buf[pos]
        pos += 1
    else:
        count, pos = decode_length(buf, pos)
    if count > size_total - pos:  # every element takes at least one byte
        raise AxdrIncomplete(f"{count} elements cannot fit in {size_total - pos} bytes")
    items: list[Data] = []
    append = items.append
    inner = depth + 1
    for _ in range(count):
        if pos >= size_total:
            raise AxdrIncomplete("tag expected")
        item_tag = buf[pos]
        number = _NUMBERS.get(item_tag)
        if number is not None:
            size, unpack = number
            end = pos + 1 + size
            if end > size_total:
                raise AxdrIncomplete(f"tag {item_tag} needs {size} bytes")
            append(_new_data(Data, (item_tag, unpack(buf, pos + 1)[0], size)))
            pos = end
        elif item_tag == _OCTETS and pos + 1 < size_total and buf[pos + 1] < 0x80:
            length = buf[pos + 1]
            end = pos + 2 + length
            if end > size_total:
                raise AxdrIncomplete(f"string of {length} bytes cut off")
            append(_new_data(Data, (item_tag, bytes(buf[pos + 2:end]), length)))
            pos = end
        elif item_tag in _NESTED:
            item, pos = _container(item_tag, buf, pos + 1, inner)
            append(item)
        else:
            item, pos = _payload(item_tag, buf, pos + 1, inner)
            append(item)
    return _new_data(Data, (tag, tuple(items), count)), pos


# -- encoding ---------------------------------------------------------------------------


def encode(value: Data) -> bytes:
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(value: Data, out: bytearray) -> None:
    tag = value.tag
    out.append(tag)
    fixed = _FIXED.get(tag)
    v = value.value
    if fixed is not None:
        size, fmt = fixed
        if fmt is not None:
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise ProtocolError(f"tag {tag} needs a number, got {v!r}")
            try:
                out += fmt.pack(v)
            except struct.error as exc:
                raise ProtocolError(f"{v!r} does not fit tag {tag}") from exc
        elif tag == Tag.BOOLEAN:
            out.append(1 if v else 0)
        else:
            if not isinstance(v, bytes) or len(v) != size:
                raise ProtocolError(f"tag {tag} needs {size} bytes")
            out += v
        return
    if tag in _STRING_TAGS:
        if isinstance(v, str):
            raw = v.encode("utf-8" if tag == Tag.UTF8_STRING else "latin-1")
        elif isinstance(v, bytes):
            raw = v
        else:
            raise ProtocolError(f"tag {tag} needs bytes or text")
        out += encode_length(len(raw))
        out += raw
        return
    if tag in (Tag.ARRAY, Tag.STRUCTURE):
        items = value.items
        out += encode_length(len(items))
        for item in items:
            _encode(item, out)
        return
    if tag in (Tag.NULL, Tag.DONT_CARE):
        return
    raise ProtocolError(f"cannot encode tag {tag}")


# Constructors for encoders and tests: short, and typed.

def structure(*items: Data) -> Data:
    return Data(Tag.STRUCTURE, tuple(items), len(items))


def array(*items: Data) -> Data:
    return Data(Tag.ARRAY, tuple(items), len(items))


def octets(raw: bytes) -> Data:
    return Data(Tag.OCTET_STRING, bytes(raw), len(raw))


def visible(text: str) -> Data:
    return Data(Tag.VISIBLE_STRING, text, len(text.encode("latin-1")))


def number(tag: int, value: int | float) -> Data:
    fixed = _FIXED.get(tag)
    if fixed is None or fixed[1] is None:
        raise ProtocolError(f"tag {tag} is not a number")
    return Data(tag, value, fixed[0])


def null() -> Data:
    return Data(Tag.NULL, None, 0)


def scaler_unit(scaler: int, unit: int) -> Data:
    """The class-3 scaler_unit attribute: structure { integer scaler, enum unit }."""
    return structure(Data(Tag.INT8, scaler, 1), Data(Tag.ENUM, unit, 1))
