"""DLMS unit codes (IEC 62056-6-2, the `unit` enumeration of scaler_unit) that meters use.

Only the physical units are listed; codes the table does not know are shown as numbers.
"""

from __future__ import annotations

from typing import Final

from meter_protocols.obis import Quantity

UNIT_SYMBOLS: Final[dict[int, str]] = {
    1: "a", 2: "mo", 3: "wk", 4: "d", 5: "h", 6: "min", 7: "s", 8: "°", 9: "°C",
    10: "currency", 11: "m", 12: "m/s", 13: "m3", 14: "m3", 15: "m3/h", 16: "m3/h",
    17: "m3/d", 18: "m3/d", 19: "l", 20: "kg", 21: "N", 22: "Nm", 23: "Pa", 24: "bar",
    25: "J", 26: "J/h", 27: "W", 28: "VA", 29: "var", 30: "Wh", 31: "VAh", 32: "varh",
    33: "A", 34: "C", 35: "V", 36: "V/m", 37: "F", 38: "Ω", 39: "Ωm2/m", 40: "Wb",
    41: "T", 42: "A/m", 43: "H", 44: "Hz", 45: "1/(Wh)", 46: "1/(varh)", 47: "1/(VAh)",
    48: "V2h", 49: "A2h", 50: "kg/s", 51: "S", 52: "K", 53: "1/(V2h)", 54: "1/(A2h)",
    55: "1/m3", 56: "%", 57: "Ah", 254: "other", 255: "",
}

ACTIVE_POWER = 27
APPARENT_POWER = 28
REACTIVE_POWER = 29
ACTIVE_ENERGY = 30
APPARENT_ENERGY = 31
REACTIVE_ENERGY = 32
CURRENT = 33
VOLTAGE = 35
FREQUENCY = 44
COUNT = 255

#: The unit a catalogued quantity has when the meter does not say (base units).
UNIT_FOR_QUANTITY: Final[dict[Quantity, int]] = {
    Quantity.ACTIVE_ENERGY: ACTIVE_ENERGY,
    Quantity.REACTIVE_ENERGY: REACTIVE_ENERGY,
    Quantity.ACTIVE_POWER: ACTIVE_POWER,
    Quantity.REACTIVE_POWER: REACTIVE_POWER,
    Quantity.APPARENT_POWER: APPARENT_POWER,
    Quantity.VOLTAGE: VOLTAGE,
    Quantity.CURRENT: CURRENT,
    Quantity.FREQUENCY: FREQUENCY,
    Quantity.POWER_FACTOR: COUNT,
}


def symbol(code: int | None) -> str:
    if code is None:
        return ""
    return UNIT_SYMBOLS.get(code, str(code))
