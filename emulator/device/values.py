"""The shared values of every face of a report: the Report itself, the value of an OBIS code
in the units the device shows (kW, kWh, kvar..., V, A) with conv_factor applied, and the
number and time formats. This is the only place where units are converted for the outside
(W -> kW, Wh -> kWh) and where conv_factor is applied (power, energy, current, max demand).

The faces (report JSON, live event, variables, and the CSV row and Modbus map to come) are
tables over these values, one module each under emulator/device/faces/.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from meter_protocols.obis import CATALOGUE, Quantity
from meter_protocols.readings import Interface, MeterReading

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Report:
    """One meter frame as the device turned it into a report."""

    id: int  # frames since boot
    interval: float  # seconds since the previous frame (0 for the first)
    received_at: float  # device clock, seconds since the epoch
    reading: MeterReading
    interface: Interface
    conv_factor: float = 1
    time_offset: int = 0  # seconds added to the meter's clock

    @property
    def timestamp(self) -> float:
        """When the report was generated: the meter's clock (corrected by time_offset) if
        the meter sends one, else the moment the device received the frame."""
        meter_time = self.reading.meter_time
        if meter_time is None:
            return self.received_at
        return meter_time.timestamp() + self.time_offset

    def value(self, short: str) -> float | None:
        """A value in the report's units (kW, kWh, kvar..., V, A) with conv_factor applied."""
        raw = _value(self.reading.values, short)
        if raw is None:
            return None
        return raw * _scale(short, self.conv_factor)


def num(value: float, places: int = 3) -> int | float:
    """A number as the device prints it: rounded, integral values without a decimal point."""
    rounded = round(value, places)
    whole = int(rounded)
    return whole if whole == rounded else rounded


def local_z(t: float, zone: ZoneInfo) -> str:
    """The device's quirk: local wall time followed by a literal Z."""
    return datetime.fromtimestamp(t, zone).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_offset(t: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).isoformat(timespec="seconds")


def utc_z(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_times(t: float, zone: ZoneInfo) -> Json:
    return {"date_time": local_z(t, zone), "date_time_local": local_offset(t, zone),
            "date_time_utc": utc_z(t)}


_KILO: Final = frozenset({Quantity.ACTIVE_ENERGY, Quantity.REACTIVE_ENERGY,
                          Quantity.ACTIVE_POWER, Quantity.REACTIVE_POWER,
                          Quantity.APPARENT_POWER})
_CONVERTED: Final = _KILO | {Quantity.CURRENT}


def _scale(short: str, conv_factor: float) -> float:
    info = CATALOGUE.get(short)
    if info is None:
        return 1.0
    factor = conv_factor if info.quantity in _CONVERTED else 1.0
    return factor / 1000.0 if info.quantity in _KILO else factor


def _value(values: Mapping[str, float], short: str) -> float | None:
    value = values.get(short)
    if value is None and short.endswith(".8.0"):
        # Meters that send only the tariff registers: the device shows their sum.
        base = short[:-1]
        t1, t2 = values.get(base + "1"), values.get(base + "2")
        if t1 is not None and t2 is not None:
            return t1 + t2
    return value
