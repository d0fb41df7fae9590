"""The variables of /api/v1/variables, which MQTT templates substitute (manual 4.1.1): one
table, read by both faces."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from emulator.device.values import Report, local_offset, local_z, num, utc_z
from meter_protocols.readings import Interface


def _var_codes() -> Iterator[tuple[str, str]]:
    for c in range(1, 9):
        for t in (0, 1, 2):
            yield f"{c}_8_{t}", f"{c}.8.{t}"
            if t == 0 and c in (1, 2):
                yield ("energy.in" if c == 1 else "energy.out"), f"{c}.8.0"
    for c in (1, 2):
        for t in (0, 1, 2):
            yield f"{c}_6_{t}", f"{c}.6.{t}"
    for c, alias in ((1, "power.in"), (2, "power.out"), (3, None), (4, None)):
        yield f"{c}_7_0", f"{c}.7.0"
        if alias:
            yield alias, f"{c}.7.0"
        for offset in (20, 40, 60):
            yield f"{c + offset}_7_0", f"{c + offset}.7.0"
    yield "9_7_0", "9.7.0"
    for code in (31, 51, 71):
        yield f"{code}_7_0", f"{code}.7.0"
    for code in (31, 51, 71):
        yield f"s{code}_7_0", f"s{code}.7.0"
    for code in (32, 52, 72):
        yield f"{code}_7_0", f"{code}.7.0"
    yield "13_7_0", "13.7.0"


#: Numeric variables: name -> OBIS short code ("s31.7.0": signed current, derived).
NUMERIC_VARIABLES: Final[tuple[tuple[str, str], ...]] = tuple(_var_codes())


def _signed_current(report: Report, short: str) -> float | None:
    code = int(short[1:3])  # s31.7.0 -> 31
    current = report.value(f"{code}.7.0")
    if current is None:
        return None
    imp = report.value(f"{code - 10}.7.0")
    exp = report.value(f"{code - 9}.7.0")
    if imp is None or exp is None:
        return None
    return -current if exp > imp else current


def _number_text(value: float | None) -> str:
    return "null" if value is None else str(num(value))


@dataclass(frozen=True, slots=True)
class SystemVariables:
    """What the variables need to know about the device besides the report."""

    name: str
    device_id: str
    firmware: str
    now: float
    meter_status: str
    interface: Interface
    plug: Mapping[str, float]  # usb, p1, mbus
    wifi: Mapping[str, str]  # mode, sta.status, sta.ssid, ... (already as text)
    ethernet: Mapping[str, str]  # state, mac, ip, mask, gw, dns


def _volume_variables(report: Report | None) -> list[tuple[str, str]]:
    """The newer template page's `vol[n].*`: one group per M-Bus sub-meter the meter
    reports, in its order; none otherwise. The snapshot time is UTC, as that page says."""
    out: list[tuple[str, str]] = []
    for n, channel in enumerate(report.reading.mbus if report else ()):
        captured = channel.captured_at
        out += [
            (f"vol[{n}].bus", str(channel.bus)),
            (f"vol[{n}].meter_id", channel.meter_id),
            (f"vol[{n}].date_time", utc_z(captured.timestamp()) if captured else ""),
            (f"vol[{n}].cumulative", _number_text(channel.value)),
        ]
    return out


def variables(report: Report | None, system: SystemVariables,
              zone: ZoneInfo) -> list[tuple[str, str]]:
    """The manual's variables, in its order, every value as text."""
    out: list[tuple[str, str]] = [
        ("sys.name", system.name), ("sys.id", system.device_id),
        ("sys.firmware", system.firmware), ("sys.date_time", local_z(system.now, zone)),
        # The newer template page's explicit variants, after the manual's own.
        ("sys.date_time_local", local_offset(system.now, zone)),
        ("sys.date_time_utc", utc_z(system.now)),
    ]
    for name, short in NUMERIC_VARIABLES:
        if report is None:
            value = None
        elif short.startswith("s"):
            value = _signed_current(report, short)
        else:
            value = report.value(short)
        out.append((name, _number_text(value)))
    reading = report.reading if report else None
    ident = reading.identity if reading else None
    tariff = reading.tariff if reading else None
    out += [
        ("tariff", "null" if tariff is None else str(tariff)),
        ("conv_factor", str(num(report.conv_factor)) if report else "null"),
        ("timestamp", str(int(report.timestamp)) if report else "null"),
        ("meter.date_time", local_z(report.timestamp, zone) if report else ""),
        ("meter.date_time_local", local_offset(report.timestamp, zone) if report else ""),
        ("meter.date_time_utc", utc_z(report.timestamp) if report else ""),
        ("meter.id", ident.meter_id if ident else ""),
        ("meter.type", ident.logical_name if ident else ""),
        ("meter.vendor", ident.vendor if ident else ""),
        ("meter.model", ident.model if ident else ""),
        ("meter.interface", system.interface.value if reading else ""),
        ("meter.protocol", reading.protocol.value if reading else ""),
        ("meter.protocol_ver", reading.protocol_version if reading else ""),
        ("meter.status", system.meter_status),
        ("plug.interface", system.interface.value),
        ("plug.voltage.usb", _number_text(system.plug["usb"])),
        ("plug.voltage.p1", _number_text(system.plug["p1"])),
        ("plug.voltage.mbus", _number_text(system.plug["mbus"])),
    ]
    out += _volume_variables(report)
    out += [(f"wifi.{key}", value) for key, value in system.wifi.items()]
    out += [(f"eth.{key}", value) for key, value in system.ethernet.items()]
    return out
