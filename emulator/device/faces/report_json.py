"""The report JSON of /api/v1/report: the `report`, `meter` and `system` objects. The wire
names of every field are the table below, declared once, in the order the device sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

from emulator.device.values import Json, Report, date_times, local_z, num
from meter_protocols.readings import Interface, MbusChannel, MeterReading


def _tariffs(c: int, d: int = 8) -> dict[str, str]:
    return {"total": f"{c}.{d}.0", "t1": f"{c}.{d}.1", "t2": f"{c}.{d}.2"}


def _phases(total: int | None, l1: int) -> dict[str, str]:
    out = {"total": f"{total}.7.0"} if total is not None else {}
    out.update({f"l{i + 1}": f"{l1 + 20 * i}.7.0" for i in range(3)})
    return out


#: The report object's layout: nested wire names down to an OBIS short code.
REPORT_LAYOUT: Final[dict[str, Any]] = {
    "instantaneous_power": {
        "active": {"positive": _phases(1, 21), "negative": _phases(2, 22)},
        "reactive": {"positive": _phases(3, 23), "negative": _phases(4, 24)},
        "apparent": {"total": "9.7.0"},
    },
    "voltage": {f"l{i + 1}": f"{32 + 20 * i}.7.0" for i in range(3)},
    "current": {f"l{i + 1}": f"{31 + 20 * i}.7.0" for i in range(3)},
    "energy": {
        "active": {"positive": _tariffs(1), "negative": _tariffs(2)},
        "reactive": {
            "positive": _tariffs(3), "negative": _tariffs(4),
            "imported": {"inductive": _tariffs(5), "capacitive": _tariffs(6)},
            "exported": {"inductive": _tariffs(7), "capacitive": _tariffs(8)},
        },
    },
    "max_demand": {"active": {"positive": _tariffs(1, 6), "negative": _tariffs(2, 6)}},
    "power_factor": "13.7.0",
}


def _fill(layout: Mapping[str, Any], report: Report) -> Json:
    out: Json = {}
    for name, spec in layout.items():
        if isinstance(spec, str):
            value = report.value(spec)
            if value is not None:
                out[name] = num(value)
        else:
            inner = _fill(spec, report)
            if inner:
                out[name] = inner
    return out


def report_object(report: Report, zone: ZoneInfo) -> Json:
    """The `report` object of /api/v1/report: only what the meter's data supports."""
    out: Json = {"id": report.id, "interval": num(report.interval)}
    if report.reading.tariff is not None:
        out["tariff"] = report.reading.tariff
    out.update(date_times(report.timestamp, zone))
    out.update(_fill(REPORT_LAYOUT, report))
    out["conv_factor"] = num(report.conv_factor)
    if report.reading.mbus:
        out["volume"] = [_volume(ch, zone) for ch in report.reading.mbus]
    return out


def empty_report_object(now: float, zone: ZoneInfo, conv_factor: float) -> Json:
    """Before the first frame: the envelope fields that do not depend on meter data."""
    return {"id": 0, "interval": 0, **date_times(now, zone), "conv_factor": num(conv_factor)}


def _volume(channel: MbusChannel, zone: ZoneInfo) -> Json:
    out: Json = {"bus": channel.bus, "meter_id": channel.meter_id}
    if channel.captured_at is not None:
        out["date_time"] = local_z(channel.captured_at.timestamp(), zone)
    if channel.value is not None:
        out["cumulative"] = num(channel.value)
    return out


def meter_object(status: str, interface: Interface, reading: MeterReading | None) -> Json:
    """The `meter` object of /api/v1/report: identity fields only where known."""
    out: Json = {"status": status, "interface": interface.value}
    if reading is None:
        return out
    ident = reading.identity
    out["protocol"] = reading.protocol.value
    for key, value in (("protocol_version", reading.protocol_version),
                       ("logical_name", ident.logical_name), ("id", ident.meter_id),
                       ("model", ident.model), ("vendor", ident.vendor),
                       ("prefix", ident.prefix)):
        if value:
            out[key] = value
    return out


def system_object(device_id: str, now: float, zone: ZoneInfo, boot_id: str,
                  time_since_boot: float) -> Json:
    return {"id": device_id, **date_times(now, zone), "boot_id": boot_id,
            "time_since_boot": int(time_since_boot)}
