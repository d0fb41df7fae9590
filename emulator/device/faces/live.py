"""The live event of /api/v1/live (server-sent events)."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from emulator.device.values import Json, Report, num

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
