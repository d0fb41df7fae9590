"""The commonest push read straight from its bytes: a data-notification whose body is an
array or structure of {logical name, value} or {logical name, value, scaler_unit}
structures (Aidon, Iskra and many others).

For such a push the general path decodes every A-XDR value into a tree (a hundred values
for 19 registers: each name, each scaler_unit and its two numbers) and then reads the tree
element by element (cosem._structured). Here the fixed parts are matched in the bytes: the
structure headers `02 02`/`02 03`, the name `09 06` and its six bytes, the scaler_unit
`02 02 0F ss 16 uu`; only the values are decoded, by the A-XDR decoder itself. What comes
out is what the general path makes of the same bytes, item for item; anything that is not
exactly this shape (another layout, a value that is a container or looks like a logical
name, a damaged or cut-off frame, bytes after the body) gives None, and the general path
reads the push and reports its problems as before.
"""

from __future__ import annotations

from meter_protocols.dlms import axdr, cosem
from meter_protocols.dlms.apdu import DATA_NOTIFICATION, _date_time
from meter_protocols.dlms.axdr import AxdrError, Data, Tag
from meter_protocols.dlms.cosem import PushedItem

_ARRAY = int(Tag.ARRAY)
_STRUCTURE = int(Tag.STRUCTURE)
_OCTETS = int(Tag.OCTET_STRING)
_INT8 = int(Tag.INT8)
_ENUM = int(Tag.ENUM)
_VALUE_DEPTH = 2  # body 0, element 1, value 2: as deep as the general decoder sees it


def read(apdu: bytes) -> tuple[bytes, list[PushedItem]] | None:
    """The notification's date-time and its registers as cosem._structured pairs them, or
    None when the APDU is not such a push (or not a well-formed one)."""
    n = len(apdu)
    if n < 6 or apdu[0] != DATA_NOTIFICATION:
        return None
    try:
        stamp, pos = _date_time(apdu, 5)
    except AxdrError:
        return None
    if pos + 2 > n or apdu[pos] not in (_ARRAY, _STRUCTURE) or not 0 < apdu[pos + 1] < 0x80:
        return None
    count = apdu[pos + 1]
    pos += 2
    items: list[PushedItem] = []
    append = items.append
    new = cosem._new_item  # tuple.__new__, for Data as for PushedItem
    empty = cosem._EMPTY
    numbers = axdr._NUMBERS.get
    for _ in range(count):
        # 02 02|03 09 06 <name>: a structure of two or three, a logical name first
        if pos + 11 > n or apdu[pos] != _STRUCTURE or apdu[pos + 2] != _OCTETS \
                or apdu[pos + 3] != 6:
            return None
        parts = apdu[pos + 1]
        name = bytes(apdu[pos + 4:pos + 10])
        if parts not in (2, 3) or name[5] != 0xFF or name[0] > 15:
            return None
        value_tag = apdu[pos + 10]
        number = numbers(value_tag)
        if number is not None:  # most values: axdr's container loop does the same
            size, unpack = number
            end = pos + 11 + size
            if end > n:
                return None
            value = new(Data, (value_tag, unpack(apdu, pos + 11)[0], size))
            pos = end
        elif value_tag in (_ARRAY, _STRUCTURE):
            return None
        else:
            try:
                value, pos = axdr._payload(value_tag, apdu, pos + 11, _VALUE_DEPTH)
            except AxdrError:
                return None
            if cosem.is_logical_name(value):
                return None
        scaler = unit = None
        if parts == 3:
            if pos + 6 > n or apdu[pos] != _STRUCTURE or apdu[pos + 1] != 2 \
                    or apdu[pos + 2] != _INT8 or apdu[pos + 4] != _ENUM:
                return None
            scaler = apdu[pos + 3] - 256 if apdu[pos + 3] > 127 else apdu[pos + 3]
            unit = apdu[pos + 5]
            pos += 6
        obis = cosem._OBIS_CACHE.get(name)
        append(new(PushedItem, (obis if obis is not None else cosem._obis(name), value,
                                None, 2, scaler, unit, None, empty)))
    if pos != n:  # bytes after the body: the general path says what is wrong
        return None
    return stamp, items
