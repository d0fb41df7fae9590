"""A KMP poll cycle's registers as a MeterReading: values in base units by OBIS code, the
meter's identity as a whatwatt Go shows it, its clock and tariff."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from meter_protocols.kmp.commands import MeterType
from meter_protocols.kmp.registers import CLOCK_REGISTER, DATE_REGISTER, REGISTERS, TARIFF_REGISTER
from meter_protocols.kmp.values import RegisterValue, unit
from meter_protocols.obis import CATALOGUE
from meter_protocols.readings import (
    MeterIdentity,
    MeterProtocol,
    MeterReading,
    Problem,
    ProblemKind,
    problem,
)

VENDOR = "Kamstrup"
#: What a whatwatt Go shows as meter.prefix for a meter it reads with KMP (a real
#: OMNIPOWER's report): the protocol, not the FLAG id KAM its DLMS pushes carry.
PREFIX = "KMP"
#: meter.protocol_version of that report.
PROTOCOL_VERSION = "0"


def cycle_reading(collected: Mapping[int, RegisterValue], serial: int | None,
                  meter_type: MeterType | None,
                  zone: ZoneInfo) -> tuple[MeterReading, list[Problem]]:
    """The reading of one poll cycle's registers, and the problems of registers sent in a
    unit that is not their quantity's (those are left out)."""
    problems: list[Problem] = []
    values: dict[str, float] = {}
    for register, value in collected.items():
        spec = REGISTERS.get(register)
        if spec is None or spec.obis is None:
            continue
        sent = unit(value.unit)
        info = CATALOGUE.get(spec.obis)
        if info is None or sent.base != info.quantity.value:
            problems.append(problem(
                ProblemKind.MALFORMED,
                f"register {register} sent in unit {sent.name!r} ({value.unit}), "
                f"which is not a unit of {spec.obis}"))
            continue
        number = float(value.value * sent.factor)
        if math.isfinite(number):  # a 255-byte mantissa is no float
            values[spec.obis] = number
    meter_id = str(serial) if serial is not None else ""
    texts: dict[str, str] = {}
    if meter_id:
        texts["96.1.0"] = meter_id
    if meter_type is not None:
        texts["0.2.0"] = f"{meter_type.revision:X}"
        identity = MeterIdentity(
        meter_id=meter_id,
        logical_name=meter_type.model if meter_type is not None else "",
        model=meter_type.model_text if meter_type is not None else "",
        vendor=VENDOR,
        prefix=PREFIX,
    )
    tariff = collected.get(TARIFF_REGISTER)
    reading = MeterReading(
        protocol=MeterProtocol.KMP,
        values=MappingProxyType(values),
        identity=identity,
        protocol_version=PROTOCOL_VERSION,
        tariff=int(tariff.value) if tariff is not None and tariff.value > 0 else None,
        meter_time=meter_time(collected.get(DATE_REGISTER),
                              collected.get(CLOCK_REGISTER), zone),
        texts=MappingProxyType(texts),
    )

    return reading, problems


def meter_time(date: RegisterValue | None, clock: RegisterValue | None,
               zone: ZoneInfo) -> datetime | None:
    """The meter's clock from its date (yymmdd) and clock (hhmmss) registers, or None."""
    if date is None or clock is None:
        return None
    try:
        ymd, hms = int(date.value), int(clock.value)
        return datetime(2000 + ymd // 10000, ymd // 100 % 100, ymd % 100,
                        hms // 10000, hms // 100 % 100, hms % 100, tzinfo=zone)
    except (ValueError, OverflowError, ArithmeticError):
        return None
