"""Pure builders: a meter reading becomes the report JSON, the live event and the variables.

This is the only place where units are converted for the outside (W -> kW, Wh -> kWh)
and where conv_factor is applied (power, energy, current, max demand). The wire names of
every field are the tables below, declared once, in the order the device sends them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from meter_protocols.obis import CATALOGUE, Quantity
from meter_protocols.readings import Interface, MbusChannel, MeterReading

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


# --- the live event (/api/v1/live) ------------------------------------------------------

#: Live fields in the order the newer firmware sends them; the manual's maximum-demand
#: fields (which the newer page no longer lists) follow the per-phase powers.
LIVE_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("P_In", "1.7.0"), ("P_Out", "2.7.0"),
    ("P_P1_In", "21.7.0"), ("P_P2_In", "41.7.0"), ("P_P3_In", "61.7.0"),
    ("P_P1_Out", "22.7.0"), ("P_P2_Out", "42.7.0"), ("P_P3_Out", "62.7.0"),
    ("P_P_In", "1.6.0"), ("P_P_In_T1", "1.6.1"), ("P_P_In_T2", "1.6.2"),
    ("rP_In", "3.7.0"), ("rP_Out", "4.7.0"),
    ("rP_P1_In", "23.7.0"), ("rP_P2_In", "43.7.0"), ("rP_P3_In", "63.7.0"),
    ("rP_P1_Out", "24.7.0"), ("rP_P2_Out", "44.7.0"), ("rP_P3_Out", "64.7.0"),
    ("PF", "13.7.0"),
    ("I_P1", "31.7.0"), ("I_P2", "51.7.0"), ("I_P3", "71.7.0"),
    ("V_P1", "32.7.0"), ("V_P2", "52.7.0"), ("V_P3", "72.7.0"),
    ("E_In", "1.8.0"), ("E_In_T1", "1.8.1"), ("E_In_T2", "1.8.2"),
    ("E_Out", "2.8.0"), ("E_Out_T1", "2.8.1"), ("E_Out_T2", "2.8.2"),
    ("rE_In", "3.8.0"), ("rE_Out", "4.8.0"),
    ("rEii", "5.8.0"), ("rEic", "6.8.0"), ("rEei", "7.8.0"), ("rEec", "8.8.0"),
)


def live_event(report: Report, zone: ZoneInfo, uptime_s: float) -> Json:
    """Every field always present: 0 or "" when the meter does not send it."""
    out: Json = {}
    for name, short in LIVE_FIELDS:
        value = report.value(short)
        out[name] = 0 if value is None else num(value)
    if report.reading.tariff is not None:
        out["T"] = report.reading.tariff
    if report.reading.mbus:
        out["Vol"] = [
            {"Bus": ch.bus, "M_ID": ch.meter_id,
             "DT": (datetime.fromtimestamp(ch.captured_at.timestamp(), zone)
                    .strftime("%Y-%m-%dT%H:%M:%S") if ch.captured_at else ""),
             "Cum": num(ch.value) if ch.value is not None else 0}
            for ch in report.reading.mbus
        ]
    moment = datetime.fromtimestamp(report.timestamp, zone)
    out["Date"] = moment.strftime("%Y-%m-%d")
    out["Time"] = moment.strftime("%H:%M:%S")
    out["Uptime"] = num(uptime_s / 3600.0, 2)
    return out


# --- the variables (/api/v1/variables and MQTT templates) ---------------------------------

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


def variables(report: Report | None, system: SystemVariables,
              zone: ZoneInfo) -> list[tuple[str, str]]:
    """The manual's variables, in its order, every value as text."""
    out: list[tuple[str, str]] = [
        ("sys.name", system.name), ("sys.id", system.device_id),
        ("sys.firmware", system.firmware), ("sys.date_time", local_z(system.now, zone)),
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
    out += [(f"wifi.{key}", value) for key, value in system.wifi.items()]
    out += [(f"eth.{key}", value) for key, value in system.ethernet.items()]
    return out
