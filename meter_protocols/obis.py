"""OBIS codes: parsing, the short form C.D.E, and the catalogue of codes the device knows.

The whatwatt Go names every value by the C.D.E part of its OBIS code ("1.8.0"); the
manual's Appendix D lists the ones it understands. The DSMR P1 companion standard adds a
few more (tariff indicator, failure counters, M-Bus channels). Quantities are kept in base
units (W, Wh, var, varh, VA, V, A); the report builder converts to kW, kWh, ... at the edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from meter_protocols.errors import ProtocolError


class Quantity(StrEnum):
    """What a catalogued value measures, which fixes its base unit."""

    ACTIVE_ENERGY = "Wh"
    REACTIVE_ENERGY = "varh"
    ACTIVE_POWER = "W"
    REACTIVE_POWER = "var"
    APPARENT_POWER = "VA"
    VOLTAGE = "V"
    CURRENT = "A"
    POWER_FACTOR = ""
    FREQUENCY = "Hz"
    TEXT = "text"


@dataclass(frozen=True, slots=True, order=True)
class Obis:
    """An OBIS code A-B:C.D.E.F; F is 255 when the source does not give it."""

    a: int
    b: int
    c: int
    d: int
    e: int
    f: int = 255

    @property
    def short(self) -> str:
        """The C.D.E form the device's API uses ("1.8.0")."""
        return f"{self.c}.{self.d}.{self.e}"

    @property
    def reduced(self) -> str:
        """The A-B:C.D.E form of P1 telegrams and /api/v1/report/objects."""
        return f"{self.a}-{self.b}:{self.c}.{self.d}.{self.e}"

    def __str__(self) -> str:
        return self.reduced

    def to_bytes(self) -> bytes:
        return bytes((self.a, self.b, self.c, self.d, self.e, self.f))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Obis:
        if len(raw) != 6:
            raise ProtocolError(f"an OBIS logical name has 6 bytes, got {len(raw)}")
        return cls(*raw)

    @classmethod
    def parse(cls, text: str) -> Obis:
        """Parse "1-0:1.8.0", "1-0:1.8.0.255", "1-0:1.8.0*255" or the short "1.8.0"."""
        match = _OBIS_RE.fullmatch(text.strip())
        if match is None:
            raise ProtocolError(f"not an OBIS code: {text!r}")
        a, b, c, d, e, f = match.groups()
        parts = (
            int(a) if a is not None else 1,
            int(b) if b is not None else 0,
            int(c),
            int(d),
            int(e),
            int(f) if f is not None else 255,
        )
        if any(p > 255 for p in parts):
            raise ProtocolError(f"OBIS group out of range 0..255: {text!r}")
        return cls(*parts)


_OBIS_RE: Final = re.compile(
    r"(?:(\d{1,3})-(\d{1,3}):)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:[.*](\d{1,3}))?"
)


@dataclass(frozen=True, slots=True)
class ObisInfo:
    """What the catalogue knows about one C.D.E code."""

    short: str
    description: str
    quantity: Quantity


def _energy_rows(c: int, what: str, quantity: Quantity) -> list[ObisInfo]:
    rows = [ObisInfo(f"{c}.8.0", f"{what} total", quantity)]
    rows += [ObisInfo(f"{c}.8.{t}", f"{what} in tariff T{t}", quantity) for t in (1, 2, 3, 4)]
    return rows


def _build_catalogue() -> dict[str, ObisInfo]:
    q = Quantity
    rows: list[ObisInfo] = [
        ObisInfo("96.1.0", "Meter identifier", q.TEXT),
        ObisInfo("96.1.1", "Meter model / equipment identifier", q.TEXT),
        ObisInfo("42.0.0", "Meter identifier (COSEM logical device name)", q.TEXT),
        ObisInfo("96.14.0", "Current tariff", q.TEXT),
        ObisInfo("0.2.8", "P1 version information", q.TEXT),
        ObisInfo("1.0.0", "Meter date and time", q.TEXT),
        ObisInfo("96.13.0", "Text message", q.TEXT),
        ObisInfo("96.13.1", "Text message code", q.TEXT),
        ObisInfo("96.7.21", "Number of power failures", q.TEXT),
        ObisInfo("96.7.9", "Number of long power failures", q.TEXT),
        ObisInfo("99.97.0", "Power failure event log", q.TEXT),
        ObisInfo("96.3.10", "Breaker state", q.TEXT),
        ObisInfo("17.0.0", "Limiter threshold", q.TEXT),
        ObisInfo("24.1.0", "M-Bus device type", q.TEXT),
        ObisInfo("24.2.1", "M-Bus meter reading", q.TEXT),
        ObisInfo("24.2.3", "M-Bus meter reading (not temperature corrected)", q.TEXT),
        ObisInfo("13.7.0", "Instantaneous power factor", q.POWER_FACTOR),
        ObisInfo("33.7.0", "Instantaneous power factor in phase L1", q.POWER_FACTOR),
        ObisInfo("53.7.0", "Instantaneous power factor in phase L2", q.POWER_FACTOR),
        ObisInfo("73.7.0", "Instantaneous power factor in phase L3", q.POWER_FACTOR),
        ObisInfo("14.7.0", "Frequency", q.FREQUENCY),
    ]
    rows += _energy_rows(1, "Positive active energy (A+)", q.ACTIVE_ENERGY)
    rows += _energy_rows(2, "Negative active energy (A-)", q.ACTIVE_ENERGY)
    rows += _energy_rows(3, "Positive reactive energy (Q+)", q.REACTIVE_ENERGY)
    rows += _energy_rows(4, "Negative reactive energy (Q-)", q.REACTIVE_ENERGY)
    rows += _energy_rows(5, "Imported inductive reactive energy in 1st quadrant (Q1)",
                         q.REACTIVE_ENERGY)
    rows += _energy_rows(6, "Imported capacitive reactive energy in 2nd quadrant (Q2)",
                         q.REACTIVE_ENERGY)
    rows += _energy_rows(7, "Exported inductive reactive energy in 3rd quadrant (Q3)",
                         q.REACTIVE_ENERGY)
    rows += _energy_rows(8, "Exported capacitive reactive energy in 4th quadrant (Q4)",
                         q.REACTIVE_ENERGY)
    for c, what in ((1, "Positive"), (2, "Negative")):
        rows.append(ObisInfo(f"{c}.6.0", f"{what} active maximum demand total", q.ACTIVE_POWER))
        rows += [
            ObisInfo(f"{c}.6.{t}", f"{what} active maximum demand in tariff T{t}",
                     q.ACTIVE_POWER)
            for t in (1, 2)
        ]
        rows.append(ObisInfo(f"{c}.4.0", f"{what} active current average demand",
                             q.ACTIVE_POWER))
    powers = (
        (1, "Positive active instantaneous power (A+)", q.ACTIVE_POWER),
        (2, "Negative active instantaneous power (A-)", q.ACTIVE_POWER),
        (3, "Positive reactive instantaneous power (Q+)", q.REACTIVE_POWER),
        (4, "Negative reactive instantaneous power (Q-)", q.REACTIVE_POWER),
    )
    for c, what, quantity in powers:
        rows.append(ObisInfo(f"{c}.7.0", what, quantity))
        for phase, offset in ((1, 20), (2, 40), (3, 60)):
            rows.append(ObisInfo(f"{c + offset}.7.0", f"{what} in phase L{phase}", quantity))
    rows.append(ObisInfo("9.7.0", "Apparent instantaneous power (S+)", q.APPARENT_POWER))
    rows.append(ObisInfo("10.7.0", "Apparent instantaneous power (S-)", q.APPARENT_POWER))
    for phase, base in ((1, 30), (2, 50), (3, 70)):
        rows.append(ObisInfo(f"{base + 1}.7.0", f"Instantaneous current in phase L{phase}",
                             q.CURRENT))
        rows.append(ObisInfo(f"{base + 2}.7.0", f"Instantaneous voltage in phase L{phase}",
                             q.VOLTAGE))
    rows.append(ObisInfo("91.7.0", "Instantaneous current in neutral", q.CURRENT))
    return {row.short: row for row in rows}


CATALOGUE: Final[dict[str, ObisInfo]] = _build_catalogue()

#: Scale factors from the unit a meter writes to the base unit of the catalogue.
UNIT_FACTORS: Final[dict[str, tuple[float, str]]] = {
    "w": (1.0, "W"),
    "kw": (1000.0, "W"),
    "mw": (1_000_000.0, "W"),
    "wh": (1.0, "Wh"),
    "kwh": (1000.0, "Wh"),
    "mwh": (1_000_000.0, "Wh"),
    "var": (1.0, "var"),
    "kvar": (1000.0, "var"),
    "varh": (1.0, "varh"),
    "kvarh": (1000.0, "varh"),
    "va": (1.0, "VA"),
    "kva": (1000.0, "VA"),
    "vah": (1.0, "VAh"),
    "kvah": (1000.0, "VAh"),
    "v": (1.0, "V"),
    "kv": (1000.0, "V"),
    "a": (1.0, "A"),
    "ma": (0.001, "A"),
    "hz": (1.0, "Hz"),
}


def to_base_unit(value: float, unit: str | None) -> tuple[float, str | None]:
    """Convert a value the meter wrote with `unit` (kWh, kW, V...) to the base unit.

    Units the catalogue does not know (m3, GJ...) are returned unchanged.
    """
    if not unit:
        return value, unit
    factor = UNIT_FACTORS.get(unit.lower())
    if factor is None:
        return value, unit
    scale, base = factor
    return (value * scale if scale != 1.0 else value), base


def describe(short: str) -> ObisInfo | None:
    return CATALOGUE.get(short)
