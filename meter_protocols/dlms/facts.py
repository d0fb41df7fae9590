"""What a register's OBIS code alone says, worked out once per code rather than per frame.

A meter pushes the same few dozen logical names in every frame; their A-B:C.D.E and C.D.E
spellings, their catalogue entry and the unit a catalogued quantity has do not change
between frames; deriving them again (two f-strings, a catalogue lookup, the class tests)
for every register of every push was a large part of the reading builder's time.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from meter_protocols.dlms import units
from meter_protocols.obis import CATALOGUE, Obis, ObisInfo, Quantity


class ObisFacts(NamedTuple):
    reduced: str  # A-B:C.D.E, the object's logical name in the report
    short: str  # C.D.E, the key of the reading's values
    info: ObisInfo | None  # the catalogue's entry for C.D.E
    #: An electricity register (A = 1) of a catalogued numeric quantity: its scaled value
    #: goes to the reading's values.
    counted: bool
    #: The unit of the catalogued quantity, for an electricity register that sends none.
    unit: int | None
    sub_meter: bool  # x-b:24.2.x, a sub-meter's register
    clock: bool  # x-x:1.0.0


_NUMERIC: Final = frozenset(q for q in Quantity if q is not Quantity.TEXT)
#: By id() of the Obis, holding the Obis itself (so its id cannot be reused while cached):
#: an id lookup costs less than hashing the dataclass.
BY_ID: dict[int, tuple[Obis, ObisFacts]] = {}
BY_ID_MAX: Final = 4096


def facts(obis: Obis) -> ObisFacts:
    entry = BY_ID.get(id(obis))
    if entry is not None and entry[0] is obis:
        return entry[1]
    if len(BY_ID) >= BY_ID_MAX:  # bounded whatever a line sends
        BY_ID.clear()
    short = obis.short
    info = CATALOGUE.get(short)
    electric = obis.a == 1
    found = ObisFacts(
        reduced=obis.reduced,
        short=short,
        info=info,
        counted=info is not None and info.quantity in _NUMERIC and electric,
        unit=units.UNIT_FOR_QUANTITY.get(info.quantity) if info is not None and electric
        else None,
        sub_meter=(obis.c, obis.d) == (24, 2),
        clock=(obis.c, obis.d, obis.e) == (1, 0, 0),
    )
    BY_ID[id(obis)] = (obis, found)
    return found
