"""Compact push layouts: a structure of bare values in an order the grid operator publishes.

These meters send no logical names at all; what each position is comes from the operator's
customer-interface description (and the open-source readers that implement it). A layout
is recognised by the exact sequence of element types, plus a text marker where the layout
has one, so a structure of another meter never matches by accident.

- wienernetze-compact: Wiener Netze IM350, AM550, E450 on the optical port. The clock, then
  A+, A-, R+, R- (Wh, varh) and P+, P-, Q+, Q- (W, var); some meters add a text before
  (the IM350's logical device name) or after (the meter number).
- netzburgenland-e450: Netz Burgenland Landis+Gyr E450. U1-3 (V), I1-3 (0.01 A), P+, P-
  (W), A+, A- (Wh), optionally R+, R- (varh); the clock is in the notification header.
- iskra-si-list2: Slovenian Iskra AM550 (as amsreader reads it). The logical device name
  "ISK...", the meter id, P+, P-, Q+, Q-, U1-3 (0.1 V), I1-3 (0.01 A), P+ and P- per phase.
- iskra-si-list3: the same meters' quarter-hour push. Name, meter id, two unpublished
  elements (the clock where one is a date-time), A+ total/T1/T2, A- total/T1/T2, R+, R-.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from meter_protocols.dlms.axdr import Data, Tag
from meter_protocols.obis import Obis

#: Element kinds of a signature.
DATE_TIME = "T"  # a 12-byte octet string holding a COSEM date-time
TEXT = "S"  # a printable octet or visible string
U16 = "l"
U32 = "L"
ANY = "*"  # anything that is not a container

CLOCK = "0-0:1.0.0"
LOGICAL_NAME = "0-0:42.0.0"
METER_ID = "0-0:96.1.0"


@dataclass(frozen=True, slots=True)
class Slot:
    kind: str
    obis: Obis | None  # None: a position whose meaning is not published (not shown)
    scaler: int | None = None
    class_id: int = 3


@dataclass(frozen=True, slots=True)
class CompactLayout:
    name: str
    slots: tuple[Slot, ...]
    vendor: str = ""
    prefix: str = ""
    marker: str = ""  # the first text must start with this


def _s(kind: str, obis: str | None, scaler: int | None = 0) -> Slot:
    if obis is None:
        return Slot(kind, None)
    class_id = 8 if obis == CLOCK else (1 if kind in (TEXT, DATE_TIME) else 3)
    return Slot(kind, Obis.parse(obis), scaler if class_id == 3 else None, class_id)


def _regs(kind: str, codes: Sequence[str], scaler: int = 0) -> tuple[Slot, ...]:
    return tuple(_s(kind, f"1-0:{code}", scaler) for code in codes)


_WN_VALUES = _regs(U32, ("1.8.0", "2.8.0", "3.8.0", "4.8.0", "1.7.0", "2.7.0", "3.7.0",
                         "4.7.0"))
_WN = (_s(DATE_TIME, CLOCK), *_WN_VALUES)
_BGLD = (*_regs(U16, ("32.7.0", "52.7.0", "72.7.0")),
         *_regs(U16, ("31.7.0", "51.7.0", "71.7.0"), -2),
         *_regs(U32, ("1.7.0", "2.7.0", "1.8.0", "2.8.0")))
_ISK_HEAD = (_s(TEXT, LOGICAL_NAME), _s(TEXT, METER_ID))

LAYOUTS: Final[tuple[CompactLayout, ...]] = (
    CompactLayout("wienernetze-compact", _WN),
    CompactLayout("wienernetze-compact", (_s(TEXT, LOGICAL_NAME), *_WN)),
    CompactLayout("wienernetze-compact", (*_WN, _s(TEXT, METER_ID))),
    CompactLayout("netzburgenland-e450", _BGLD, "Landis+Gyr", "LGZ"),
    CompactLayout("netzburgenland-e450", (*_BGLD, *_regs(U32, ("3.8.0", "4.8.0"))),
                  "Landis+Gyr", "LGZ"),
    CompactLayout("iskra-si-list2", (
        *_ISK_HEAD, *_regs(U32, ("1.7.0", "2.7.0", "3.7.0", "4.7.0")),
        *_regs(U16, ("32.7.0", "52.7.0", "72.7.0"), -1),
        *_regs(U16, ("31.7.0", "51.7.0", "71.7.0"), -2),
        *_regs(U32, ("21.7.0", "41.7.0", "61.7.0", "22.7.0", "42.7.0", "62.7.0")),
    ), "Iskraemeco", "ISK", marker="ISK"),
    CompactLayout("iskra-si-list3", (
        *_ISK_HEAD, _s(ANY, None), _s(ANY, None),
        *_regs(U32, ("1.8.0", "1.8.1", "1.8.2", "2.8.0", "2.8.1", "2.8.2", "3.8.0",
                     "4.8.0")),
    ), "Iskraemeco", "ISK", marker="ISK"),
)


def _text(value: Data) -> str | None:
    raw = value.value
    if isinstance(raw, str):
        return raw
    if value.tag == Tag.OCTET_STRING and isinstance(raw, bytes) and raw \
            and all(0x20 <= b < 0x7F for b in raw):
        return raw.decode("ascii")
    return None


def is_date_time(value: Data) -> bool:
    """A 12-byte octet string that reads as a COSEM date-time (year 2000..2099 or unset)."""
    raw = value.value
    if value.tag not in (Tag.OCTET_STRING, Tag.DATE_TIME) or not isinstance(raw, bytes) \
            or len(raw) != 12:
        return False
    year = int.from_bytes(raw[:2], "big")
    return (2000 <= year <= 2099 or year == 0xFFFF) and (raw[2] <= 12 or raw[2] >= 0xFD) \
        and (raw[3] <= 31 or raw[3] >= 0xFD)


def _fits(kind: str, value: Data) -> bool:
    if kind == U32:
        return value.tag == Tag.UINT32
    if kind == U16:
        return value.tag == Tag.UINT16
    if kind == DATE_TIME:
        return is_date_time(value)
    if kind == TEXT:
        return _text(value) is not None
    return not value.is_container


def match(values: Sequence[Data]) -> CompactLayout | None:
    """The compact layout these bare values fit exactly, or None."""
    for layout in LAYOUTS:
        if len(layout.slots) != len(values):
            continue
        if not all(_fits(slot.kind, value) for slot, value in zip(layout.slots, values,
                                                                  strict=True)):
            continue
        if layout.marker and not (_text(values[0]) or "").startswith(layout.marker):
            continue
        return layout
    return None


def slot_for(layout: CompactLayout, index: int, value: Data) -> Slot | None:
    """The slot of element `index`; an unpublished position holding a date-time is the
    clock, any other unpublished position is left out."""
    slot = layout.slots[index]
    if slot.obis is None:
        return _s(DATE_TIME, CLOCK) if is_date_time(value) else None
    return slot
