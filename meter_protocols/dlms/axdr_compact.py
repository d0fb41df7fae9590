"""A-XDR compact-array (IEC 62056-6-2): a type description, then the values without their
tags. Kept apart from axdr.py, whose decoder hands compact arrays to `decode_compact`."""

from __future__ import annotations

from meter_protocols.dlms.axdr import (
    _FIXED,
    _STRING_TAGS,
    MAX_DEPTH,
    AxdrError,
    AxdrIncomplete,
    Data,
    Tag,
    _payload,
    decode_length,
)

_TypeDesc = tuple[int, tuple["_TypeDesc", ...], int]  # (tag, element types, array count)


def _decode_type(buf: bytes | bytearray, pos: int, depth: int) -> tuple[_TypeDesc, int]:
    if depth >= MAX_DEPTH:
        raise AxdrError("type description nested too deep")
    if pos >= len(buf):
        raise AxdrIncomplete("type description cut off")
    tag = buf[pos]
    pos += 1
    if tag == Tag.ARRAY:
        if pos + 2 > len(buf):
            raise AxdrIncomplete("array type cut off")
        count = int.from_bytes(buf[pos:pos + 2], "big")
        element, pos = _decode_type(buf, pos + 2, depth + 1)
        return (tag, (element,), count), pos
    if tag == Tag.STRUCTURE:
        count, pos = decode_length(buf, pos)
        if count > len(buf) - pos:
            raise AxdrIncomplete("structure type cut off")
        members = []
        for _ in range(count):
            member, pos = _decode_type(buf, pos, depth + 1)
            members.append(member)
        return (tag, tuple(members), 0), pos
    if tag in _FIXED or tag in _STRING_TAGS or tag in (Tag.NULL, Tag.BIT_STRING):
        return (tag, (), 0), pos
    raise AxdrError(f"type {tag} not allowed in a compact-array")


def _decode_typed(desc: _TypeDesc, buf: bytes, pos: int, depth: int,
                  budget: list[int]) -> tuple[Data, int]:
    budget[0] -= 1
    if budget[0] < 0:
        raise AxdrError("compact-array holds more values than its bytes can carry")
    tag, members, count = desc
    if tag == Tag.STRUCTURE:
        items = []
        for member in members:
            item, pos = _decode_typed(member, buf, pos, depth + 1, budget)
            items.append(item)
        return Data(tag, tuple(items), len(items)), pos
    if tag == Tag.ARRAY:
        if count > len(buf) - pos + 1:
            raise AxdrError("array count larger than its contents")
        items = []
        for _ in range(count):
            item, pos = _decode_typed(members[0], buf, pos, depth + 1, budget)
            items.append(item)
        return Data(tag, tuple(items), count), pos
    return _payload(tag, buf, pos, depth)


#: Values a compact-array may hold per byte of its contents. Every real element takes a
#: byte or more, and a container adds one value for its members; types that take no byte
#: (null, an empty structure) nested in arrays would otherwise multiply without bound.
_VALUES_PER_BYTE = 4


def compact_array_end(buf: bytes | bytearray, pos: int, depth: int) -> int:
    """Where the compact-array whose type description starts at pos ends (its contents are
    not checked). Raises AxdrIncomplete or AxdrError."""
    _, pos = _decode_type(buf, pos, depth)
    length, pos = decode_length(buf, pos)
    return pos + length


def decode_compact(buf: bytes, pos: int, depth: int) -> tuple[Data, int]:
    desc, pos = _decode_type(buf, pos, depth)
    length, pos = decode_length(buf, pos)
    end = pos + length
    if end > len(buf):
        raise AxdrIncomplete("compact-array contents cut off")
    contents = bytes(buf[pos:end])
    items: list[Data] = []
    at = 0
    budget = [_VALUES_PER_BYTE * len(contents) + 16]
    while at < len(contents):
        item, at = _decode_typed(desc, contents, at, depth + 1, budget)
        items.append(item)
        if len(items) > len(contents):
            raise AxdrError("compact-array does not progress")
    if at != len(contents):
        raise AxdrError("compact-array contents do not fit its type")
    return Data(Tag.COMPACT_ARRAY, tuple(items), len(items)), end


