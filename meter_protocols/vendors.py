"""Meter manufacturers by their three-letter FLAG identifier (as in DSMR headers and DLMS
logical device names). Only identifiers whose owner is well established are listed; an
unknown prefix gives an empty vendor, as the device shows when it cannot tell."""

from __future__ import annotations

from typing import Final

FLAG_VENDORS: Final[dict[str, str]] = {
    "ADN": "Aidon",
    "EMH": "EMH",
    "ESR": "Ensor",
    "ESY": "EasyMeter",
    "ELS": "Elster",
    "HLY": "Holley",
    "ISK": "Iskraemeco",
    "ITR": "Itron",
    "KAM": "Kamstrup",
    "KFM": "Kaifa",
    "LGB": "Landis+Gyr",
    "LGF": "Landis+Gyr",
    "LGZ": "Landis+Gyr",
    "SAG": "Sagemcom",
    "SAT": "Sagemcom",
    "SMS": "Siemens",
    "XMX": "Xemex",
    "ZPA": "ZPA Smart Energy",
}


def vendor_for(prefix: str) -> str:
    return FLAG_VENDORS.get(prefix.upper(), "")


def printable_hex(value: str) -> str | None:
    """Decode hex-encoded ASCII (DSMR equipment ids); None when it is not that."""
    if len(value) < 4 or len(value) % 2 or any(c not in "0123456789abcdefABCDEF" for c in value):
        return None
    raw = bytes.fromhex(value)
    if all(0x20 <= b < 0x7F for b in raw):
        return raw.decode("ascii")
    return None
