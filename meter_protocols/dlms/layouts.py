"""Push lists that need knowledge from outside the frame.

Some meters push bare values in a fixed order with no OBIS codes (Kaifa's Norwegian HAN
lists), others name every value but send no scaler (Kaifa's Swedish list, Kamstrup). Both
are recognised by features of the frame: the list version identifier they send first and
the number of elements. The tables hold the facts of the vendors' published HAN interface
descriptions: which register each position is, and the scaler of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from meter_protocols.dlms.axdr import Data, Tag
from meter_protocols.obis import Obis

LIST_VERSION = Obis(1, 1, 0, 2, 129)  # where a list version identifier is kept

_IDENT = (("1-1:0.2.129", None), ("0-0:96.1.0", None), ("0-0:96.1.7", None))
_POWERS = (("1-0:1.7.0", 0), ("1-0:2.7.0", 0), ("1-0:3.7.0", 0), ("1-0:4.7.0", 0))
_ENERGIES = (("0-0:1.0.0", None), ("1-0:1.8.0", 0), ("1-0:2.8.0", 0), ("1-0:3.8.0", 0),
             ("1-0:4.8.0", 0))
_KAIFA_1P = (*_IDENT, *_POWERS, ("1-0:31.7.0", -3), ("1-0:32.7.0", -1))
_KAIFA_3P = (*_IDENT, *_POWERS, ("1-0:31.7.0", -3), ("1-0:51.7.0", -3), ("1-0:71.7.0", -3),
             ("1-0:32.7.0", -1), ("1-0:52.7.0", -1), ("1-0:72.7.0", -1))


@dataclass(frozen=True, slots=True)
class ValueOrder:
    """A push list of bare values: the register and scaler of each position."""

    name: str
    vendor: str
    prefix: str
    slots: tuple[tuple[Obis, int | None], ...]


def _order(name: str, slots: Sequence[tuple[str, int | None]]) -> ValueOrder:
    return ValueOrder(name, "Kaifa", "KFM", tuple((Obis.parse(o), s) for o, s in slots))


#: Kaifa MA105/MA304 lists (Norwegian HAN), by element count, after the "KFM_001" id.
KAIFA_ORDERS: Final[dict[int, ValueOrder]] = {
    9: _order("kaifa-list2-1p", _KAIFA_1P),
    13: _order("kaifa-list2-3p", _KAIFA_3P),
    14: _order("kaifa-list3-1p", (*_KAIFA_1P, *_ENERGIES)),
    18: _order("kaifa-list3-3p", (*_KAIFA_3P, *_ENERGIES)),
}
#: List 1 of the same meters: one bare number every two seconds, the active power.
KAIFA_LIST1: Final = _order("kaifa-list1", (("1-0:1.7.0", 0),))


def _text(value: Data) -> str | None:
    if isinstance(value.value, bytes) and value.tag == Tag.OCTET_STRING:
        try:
            return value.value.decode("ascii")
        except UnicodeDecodeError:
            return None
    return value.value if isinstance(value.value, str) else None


def match_value_order(items: Sequence[Data]) -> ValueOrder | None:
    """The known order of a structure of bare values, or None."""
    if len(items) == 1 and items[0].tag in (Tag.UINT32, Tag.UINT16):
        return KAIFA_LIST1
    if items and (_text(items[0]) or "").startswith("KFM_"):
        return KAIFA_ORDERS.get(len(items))
    return None


@dataclass(frozen=True, slots=True)
class ListScalers:
    """Scalers of a list that names its values but sends no scaler_unit."""

    vendor: str
    prefix: str
    scalers: dict[str, int]  # C.D.E -> scaler


_PHASE_I = ("31.7.0", "51.7.0", "71.7.0")
_PHASE_U = ("32.7.0", "52.7.0", "72.7.0")

#: By the list version identifier the meter sends (its prefix before "_").
LIST_SCALERS: Final[dict[str, ListScalers]] = {
    "KFM": ListScalers("Kaifa", "KFM", {**dict.fromkeys(_PHASE_I, -3),
                                        **dict.fromkeys(_PHASE_U, -1)}),
    "KAMSTRUP": ListScalers("Kamstrup", "KAM", {
        **dict.fromkeys(_PHASE_I, -2), **dict.fromkeys(_PHASE_U, 0),
        **dict.fromkeys(("1.8.0", "2.8.0", "3.8.0", "4.8.0"), 1),
    }),
    "AIDON": ListScalers("Aidon", "ADN", {}),
}


def list_scalers(list_version: str) -> ListScalers | None:
    return LIST_SCALERS.get(list_version.partition("_")[0].upper())
