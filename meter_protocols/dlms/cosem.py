"""From a notification body (one Data tree) to the COSEM objects it carries.

The common push layouts, tried in this order:
1. Self-described (Landis+Gyr and other IEC 62056-6-2 push setups): the first element is
   the push setup's push_object_list (array of {class_id, logical_name, attribute_index,
   data_index}); element i is the value of entry i.
2. Named values: logical-name octet strings each followed by the value and, for
   registers, optionally by a scaler_unit structure {integer, enum} - whether the pairs
   are structures (Aidon: {ln, value, scaler_unit}), or one flat structure (Kaifa's
   Swedish list, Kamstrup, Austrian meters: ln, value, ln, value, ...).
3. Bare values in a known order (layouts.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from meter_protocols.dlms import compact, layouts
from meter_protocols.dlms.axdr import Data, Tag
from meter_protocols.dlms.compact import is_date_time
from meter_protocols.obis import Obis

_EMPTY: Mapping[str, Any] = MappingProxyType({})
# Tags as plain ints: an IntEnum member looked up on its class costs several times a
# global's lookup, and these are compared for every value of every push.
_OCTETS: Final = int(Tag.OCTET_STRING)
_STRUCTURE: Final = int(Tag.STRUCTURE)
_INT8: Final = int(Tag.INT8)
_ENUM: Final = int(Tag.ENUM)


class PushedItem(NamedTuple):
    """One value of the push, with what the frame (or a known layout) says about it.

    A named tuple: a push makes one per register, and a frozen dataclass's constructor
    cost more than the rest of the layout search."""

    obis: Obis
    data: Data
    class_id: int | None = None  # None: the frame does not say
    attribute: int = 2
    scaler: int | None = None  # the meter's own scaler_unit
    unit: int | None = None
    layout_scaler: int | None = None  # from a known layout table
    extra: Mapping[str, Any] = _EMPTY


@dataclass(frozen=True, slots=True)
class PushContent:
    items: tuple[PushedItem, ...]
    layout: str
    vendor: str = ""
    prefix: str = ""
    list_version: str = ""


def is_logical_name(value: Data) -> bool:
    raw = value.value
    return (value.tag == _OCTETS and isinstance(raw, bytes) and len(raw) == 6
            and raw[5] == 0xFF and raw[0] <= 15)


def is_scaler_unit(value: Data) -> bool:
    items = value.items
    return (value.tag == _STRUCTURE and len(items) == 2 and items[0].tag == _INT8
            and items[1].tag == _ENUM)


def outline(body: Data) -> str:
    """A notification body's shape in words (container, element count and tags), for the
    problem that reports a layout no table knows."""
    if not body.is_container:
        return f"a bare value of tag {body.tag}"
    kind = "structure" if body.tag == Tag.STRUCTURE else "array"
    tags = " ".join(str(item.tag) for item in body.items[:12])
    return f"{kind} of {len(body.items)}: tags {tags}{' ...' if len(body.items) > 12 else ''}"


def extract(body: Data) -> PushContent | None:
    """The objects of a notification body, or None when no layout fits."""
    content = _self_described(body)
    if content is None:
        content = _named(body)
    if content is None:
        content = _ordered(body)
    return content


# -- 1. push_object_list first ----------------------------------------------------------

def _object_list(value: Data) -> list[tuple[int, Obis, int, int]] | None:
    if value.tag != Tag.ARRAY or not value.items:
        return None
    entries = []
    for entry in value.items:
        fields = entry.items
        if entry.tag != Tag.STRUCTURE or len(fields) != 4:
            return None
        class_id, name, attribute, index = fields
        if not (isinstance(class_id.value, int) and isinstance(attribute.value, int)
                and isinstance(index.value, int) and isinstance(name.value, bytes)
                and len(name.value) == 6):
            return None
        entries.append((class_id.value, Obis.from_bytes(name.value), attribute.value,
                        index.value))
    return entries


def _self_described(body: Data) -> PushContent | None:
    values = body.items
    if body.tag not in (Tag.STRUCTURE, Tag.ARRAY) or not values:
        return None
    entries = _object_list(values[0])
    if entries is None:
        return None
    listing = tuple(
        MappingProxyType({"logical_name": obis.reduced, "class": class_id,
                          "attribute": attribute, "data_index": index})
        for class_id, obis, attribute, index in entries
    )
    items: list[PushedItem] = []
    scaler_units: dict[Obis, Data] = {}
    extras: dict[Obis, dict[str, Any]] = {}
    first_setup = True
    for (class_id, obis, attribute, _), value in zip(entries, values, strict=False):
        if class_id == 40 and attribute == 2 and first_setup:
            first_setup = False
            items.append(PushedItem(obis, value, 40, 2,
                                    extra=MappingProxyType({"push_object_list": listing})))
        elif class_id in (3, 4) and attribute == 3 and is_scaler_unit(value):
            scaler_units[obis] = value
        elif class_id == 4 and attribute in (4, 5):
            extras.setdefault(obis, {})["status" if attribute == 4 else "capture_time"] = value
        elif class_id == 8 and attribute in (3, 4):
            extras.setdefault(obis, {})["time_zone" if attribute == 3 else "status"] = value
        elif attribute == 2:
            items.append(PushedItem(obis, value, class_id, 2))
    out = []
    for item in items:
        su = scaler_units.get(item.obis)
        extra = extras.get(item.obis)
        if su is None and extra is None:
            out.append(item)
            continue
        scaler, unit = _scaler_unit(su)
        out.append(PushedItem(item.obis, item.data, item.class_id, 2, scaler, unit,
                              extra=MappingProxyType(extra or {}) if extra else item.extra))
    return PushContent(tuple(out), "push-object-list")


def _scaler_unit(value: Data | None) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    scaler, unit = value.items
    return (scaler.value if isinstance(scaler.value, int) else None,
            unit.value if isinstance(unit.value, int) else None)


# -- 2. logical names next to their values --------------------------------------------------

def _tokens(value: Data, depth: int = 0, out: list[Data] | None = None) -> list[Data]:
    """Leaves in document order; scaler_unit structures stay whole. (A list filled by plain
    recursion, which only containers enter: a call per leaf cost more than the leaf.)"""
    if out is None:
        out = []
    if value.tag in _NESTED and depth < _TOKEN_DEPTH and not is_scaler_unit(value):
        _leaves(value.items, depth + 1, out)
    else:
        out.append(value)
    return out


def _leaves(items: tuple[Data, ...], depth: int, out: list[Data]) -> None:
    """_tokens of each of `items` (at `depth`), with the scaler_unit test inlined."""
    append = out.append
    for item in items:
        if item.tag not in _NESTED:
            append(item)
            continue
        inner = item.items
        if depth >= _TOKEN_DEPTH or (item.tag == _STRUCTURE and len(inner) == 2
                                     and inner[0].tag == _INT8 and inner[1].tag == _ENUM):
            append(item)  # too deep to open, or a scaler_unit (is_scaler_unit, inlined)
        else:
            _leaves(inner, depth + 1, out)


_NESTED: Final = frozenset((Tag.STRUCTURE, Tag.ARRAY))
#: Builds a PushedItem from all its fields without NamedTuple's argument handling.
_new_item: Final = tuple.__new__
_TOKEN_DEPTH: Final = 8
#: Logical names seen, as Obis (a meter repeats the same few dozen in every push).
_OBIS_CACHE: dict[bytes, Obis] = {}
_OBIS_CACHE_MAX: Final = 4096


def _obis(raw: bytes) -> Obis:
    found = _OBIS_CACHE.get(raw)
    if found is None:
        if len(_OBIS_CACHE) >= _OBIS_CACHE_MAX:  # bounded whatever a line sends
            _OBIS_CACHE.clear()
        found = _OBIS_CACHE[raw] = Obis.from_bytes(raw)
    return found


CLOCK = Obis(0, 0, 1, 0, 0)
METER_NUMBER = Obis(0, 0, 96, 1, 0)


def _structured(body: Data) -> list[PushedItem] | None:
    """The pairing of a push whose every element is a structure {logical name, value} or
    {logical name, value, scaler_unit} with a scalar value (Aidon, Iskra, many others),
    read element by element; None for any other body.

    For such a body the token walk yields name, value[, scaler_unit] per element, so the
    search below pairs exactly these, with nothing leading or trailing; a value that is a
    container or looks like a logical name would be paired otherwise, and sends the body
    to the search."""
    if body.tag not in _NESTED:
        return None
    items: list[PushedItem] = []
    append = items.append
    for tag, parts, _ in body.items:  # Data unpacked: tag, value, size
        if tag != _STRUCTURE or not isinstance(parts, tuple) or not 2 <= len(parts) <= 3:
            return None
        name_tag, name, _ = parts[0]
        value = parts[1]
        value_tag, raw, _ = value
        if not (name_tag == _OCTETS and isinstance(name, bytes) and len(name) == 6
                and name[5] == 0xFF and name[0] <= 15) or value_tag in _NESTED \
                or (value_tag == _OCTETS and isinstance(raw, bytes) and len(raw) == 6
                    and raw[5] == 0xFF and raw[0] <= 15):  # is_logical_name, inlined
            return None
        scaler = unit = None
        if len(parts) == 3:
            unit_tag, pair, _ = parts[2]
            if unit_tag != _STRUCTURE or not isinstance(pair, tuple) or len(pair) != 2:
                return None
            (scaler_tag, scaler, _), (enum_tag, unit, _) = pair
            if scaler_tag != _INT8 or enum_tag != _ENUM:  # not a scaler_unit
                return None
            if not isinstance(scaler, int):  # _scaler_unit
                scaler = None
            if not isinstance(unit, int):
                unit = None
        obis = _OBIS_CACHE.get(name)
        append(_new_item(PushedItem, (obis if obis is not None else _obis(name), value,
                                      None, 2, scaler, unit, None, _EMPTY)))
    return items


def _named(body: Data) -> PushContent | None:
    leading: list[Data] = []
    trailing: list[Data] = []
    structured = _structured(body)
    if structured is not None:
        return _named_items(structured, leading, trailing)
    pending: Obis | None = None
    # Each item as [obis, value, scaler, unit] until the end: a scaler_unit after a value
    # completes it in place instead of building the item twice.
    found: list[list[Any]] = []
    last: list[Any] | None = None
    for token in _tokens(body):
        tag = token.tag
        raw = token.value
        if tag == _OCTETS and isinstance(raw, bytes) and len(raw) == 6 \
                and raw[5] == 0xFF and raw[0] <= 15:  # is_logical_name, inlined
            pending = _obis(raw)
            last = None
        elif tag == _STRUCTURE and len(inner := token.items) == 2 \
                and inner[0].tag == _INT8 and inner[1].tag == _ENUM:  # is_scaler_unit
            if last is not None and last[2] is None:
                last[2], last[3] = _scaler_unit(token)
        elif pending is not None:
            last = [pending, token, None, None]
            found.append(last)
            pending = None
            trailing.clear()
        elif not found:
            leading.append(token)
        else:
            trailing.append(token)
    items = [_new_item(PushedItem, (obis, value, None, 2, scaler, unit, None, _EMPTY))
             for obis, value, scaler, unit in found]
    return _named_items(items, leading, trailing)


def named_items(items: list[PushedItem]) -> PushContent | None:
    """The named-values content of registers paired element-wise (structured.py)."""
    return _named_items(items, [], [])


def _named_items(items: list[PushedItem], leading: list[Data],
                 trailing: list[Data]) -> PushContent | None:
    """The named-values content from the paired items and the unnamed tokens before the
    first (leading) and after the last (trailing)."""
    if not items:
        return None
    layout = "named-values"
    # Netz NÖ's customer interface (Kaifa MA309, Sagemcom T210-D): the clock first and the
    # meter number last, both without a logical name, the registers named between them.
    clock_first = len(leading) == 1 and is_date_time(leading[0])
    number_last = len(trailing) == 1 and bool(_text(trailing[0]))
    if number_last:
        items.append(PushedItem(METER_NUMBER, trailing[0], 1))
    if clock_first and number_last:
        items.insert(0, PushedItem(CLOCK, leading[0], 8))
        leading = []
        layout = "netznoe"
    list_version = ""
    for item in items:
        obis = item.obis
        if obis.c == 0 and obis.d == 2 and obis.e == 129:  # x-x:0.2.129
            list_version = _text(item.data)
            break
    if not list_version and leading:
        list_version = _text(leading[0])
        if list_version:
            items.insert(0, PushedItem(layouts.LIST_VERSION, leading[0], 1))
    known = layouts.list_scalers(list_version) if list_version else None
    if known is not None and known.scalers:
        items = [
            PushedItem(i.obis, i.data, i.class_id, i.attribute, i.scaler, i.unit,
                       known.scalers.get(i.obis.short), i.extra)
            for i in items
        ]
    return PushContent(tuple(items), layout,
                       vendor=known.vendor if known else "",
                       prefix=known.prefix if known else "", list_version=list_version)


def _text(value: Data) -> str:
    raw = value.value
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes) and raw and all(0x20 <= b < 0x7F for b in raw):
        return raw.decode("ascii")
    return ""


# -- 3. bare values in a known order ----------------------------------------------------------

def _ordered(body: Data) -> PushContent | None:
    values = body.items
    if body.tag != Tag.STRUCTURE or any(v.is_container for v in values):
        return None
    found = compact.match(values)
    if found is not None:
        return _compact(found, values)
    order = layouts.match_value_order(values)
    if order is None:
        return None
    items = tuple(
        PushedItem(obis, value, layout_scaler=scaler)
        for (obis, scaler), value in zip(order.slots, values, strict=False)
    )
    list_version = _text(values[0]) if values[0].tag != Tag.UINT32 else ""
    return PushContent(items, order.name, order.vendor, order.prefix, list_version)


def _compact(layout: compact.CompactLayout, values: tuple[Data, ...]) -> PushContent:
    items = []
    for index, value in enumerate(values):
        slot = compact.slot_for(layout, index, value)
        if slot is None or slot.obis is None:
            continue
        items.append(PushedItem(slot.obis, value, slot.class_id, layout_scaler=slot.scaler))
    return PushContent(tuple(items), layout.name, layout.vendor, layout.prefix)
