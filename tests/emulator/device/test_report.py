"""The report, live event and variables of the ensor-ers meter: field sets against the
documentation's own examples, values against the meter, and snapshots of the JSON."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator.device.faces.live import LIVE_FIELDS, live_event
from emulator.device.faces.report_json import meter_object, report_object, system_object
from emulator.device.faces.variables import SystemVariables, variables
from emulator.device.values import Report, local_z, num
from meter_protocols.readings import Interface, MeterProtocol, MeterReading
from tests.conftest import spec_file
from tests.support import (
    DEVICE_ID,
    ENSOR_MOMENT,
    ZURICH,
    assert_snapshot,
    doc_json_blocks,
    ensor_readings,
    key_paths,
)


def ensor_report(index: int = 2, **overrides: object) -> Report:
    reading = ensor_readings(index + 1)[index]
    fields: dict[str, object] = {"id": index + 1, "interval": 1.0, "received_at":
                                 ENSOR_MOMENT + index + 1.2, "reading": reading,
                                 "interface": Interface.P1}
    fields.update(overrides)
    return Report(**fields)  # type: ignore[arg-type]


def envelope(report: Report) -> dict[str, object]:
    return {
        "report": report_object(report, ZURICH),
        "meter": meter_object("OK", Interface.P1, report.reading),
        "system": system_object(DEVICE_ID, report.received_at, ZURICH, "B3E61904", 1878),
    }


def test_report_field_set_is_the_documented_ensor_example() -> None:
    examples = doc_json_blocks("20-rest/polling.md")
    ensor = next(e for e in examples if e["meter"].get("vendor") == "Ensor")
    documented = {p for p in key_paths(ensor) if not p.startswith("report.volume")}
    assert key_paths(envelope(ensor_report())) == documented


def test_report_values_are_the_meters_in_report_units() -> None:
    report = ensor_report()
    values = report.reading.values
    body = report_object(report, ZURICH)
    power = body["instantaneous_power"]["active"]["positive"]
    assert power["total"] == num(values["1.7.0"] / 1000)
    assert power["l1"] == num(values["21.7.0"] / 1000)
    assert body["voltage"]["l2"] == num(values["52.7.0"])
    assert body["current"]["l3"] == num(values["71.7.0"])
    energy = body["energy"]["active"]["positive"]
    assert energy["t1"] == num(values["1.8.1"] / 1000)
    # The meter sends only the tariff registers; the device shows their sum as total.
    assert energy["total"] == num((values["1.8.1"] + values["1.8.2"]) / 1000)
    assert body["tariff"] == 1
    assert body["conv_factor"] == 1


def test_date_time_is_local_with_the_devices_literal_z() -> None:
    body = report_object(ensor_report(), ZURICH)
    # The meter's clock said 11:54:05 local (CET, UTC+1).
    assert body["date_time"] == "2025-01-22T11:54:05Z"
    assert body["date_time_local"] == "2025-01-22T11:54:05+01:00"
    assert body["date_time_utc"] == "2025-01-22T10:54:05Z"


def test_time_offset_corrects_the_meters_clock() -> None:
    body = report_object(ensor_report(time_offset=3600), ZURICH)
    assert body["date_time"] == "2025-01-22T12:54:05Z"


def test_without_a_meter_clock_the_reception_time_is_used() -> None:
    reading = MeterReading(MeterProtocol.DSMR, {"1.7.0": 100.0})
    report = Report(1, 0.0, ENSOR_MOMENT, reading, Interface.P1)
    assert report_object(report, ZURICH)["date_time"] == local_z(ENSOR_MOMENT, ZURICH)


def test_conv_factor_scales_power_energy_current_but_not_voltage() -> None:
    plain = report_object(ensor_report(), ZURICH)
    scaled = report_object(ensor_report(conv_factor=40), ZURICH)
    assert scaled["conv_factor"] == 40
    p_plain = plain["instantaneous_power"]["active"]["positive"]["total"]
    p_scaled = scaled["instantaneous_power"]["active"]["positive"]["total"]
    assert p_scaled == pytest.approx(p_plain * 40, abs=0.04)
    assert scaled["current"]["l1"] == pytest.approx(plain["current"]["l1"] * 40, abs=0.4)
    assert scaled["energy"]["active"]["positive"]["t1"] == pytest.approx(
        plain["energy"]["active"]["positive"]["t1"] * 40, abs=0.04)
    assert scaled["voltage"] == plain["voltage"]


def test_numbers_print_like_the_device() -> None:
    assert num(0.0) == 0 and isinstance(num(0.0), int)
    assert num(-0.0) == 0
    assert num(234.34000000001) == 234.34
    assert num(68.0920004) == 68.092
    assert num(1.0) == 1 and isinstance(num(1.0), int)


def test_report_snapshot() -> None:
    assert_snapshot("ensor-ers/report", envelope(ensor_report()))


# --- live ------------------------------------------------------------------------------

MANUAL_LIVE_FIELDS = [  # the seed manual's table, section 3.2
    "P_In", "P_Out", "P_P1_In", "P_P2_In", "P_P3_In", "P_P1_Out", "P_P2_Out", "P_P3_Out",
    "P_P_In", "P_P_In_T1", "P_P_In_T2", "I_P1", "I_P2", "I_P3", "V_P1", "V_P2", "V_P3",
    "rP_In", "rP_Out", "PF", "E_In", "E_In_T1", "E_In_T2", "E_Out", "E_Out_T1", "E_Out_T2",
    "rE_In", "rE_Out", "Date", "Time", "Uptime"]


def _documented_live_keys() -> list[str]:
    page = spec_file("whatwatt-docs", "docs", "20-rest", "streaming.md")
    line = next(ln for ln in page.read_text().splitlines() if ln.startswith("data: {"))
    return re.findall(r'"([A-Za-z_0-9]+)":', line.removeprefix("data: "))


def test_live_event_has_every_field_of_both_documents() -> None:
    event = live_event(ensor_report(), ZURICH, uptime_s=255780)
    documented = [k for k in _documented_live_keys() if k not in ("Bus", "M_ID", "DT", "Cum")]
    assert set(MANUAL_LIVE_FIELDS) <= set(event)
    assert set(documented) - {"Vol"} <= set(event)
    assert "Vol" not in event  # the Ensor meter has no M-Bus sub-meters
    # The newer firmware's order for the fields it documents.
    ours = [k for k in event if k in documented]
    assert ours == [k for k in documented if k in event]


def test_live_fields_the_meter_does_not_send_are_zero_and_uptime_is_hours() -> None:
    event = live_event(ensor_report(), ZURICH, uptime_s=255780)
    assert event["rP_In"] == 0 and event["PF"] == 0 and event["rEii"] == 0
    assert event["Uptime"] == 71.05
    assert event["T"] == 1
    assert (event["Date"], event["Time"]) == ("2025-01-22", "11:54:05")
    assert [name for name, _ in LIVE_FIELDS] == [k for k in event if k in dict(LIVE_FIELDS)]


def test_live_snapshot() -> None:
    assert_snapshot("ensor-ers/live", live_event(ensor_report(), ZURICH, uptime_s=1878))


# --- variables ---------------------------------------------------------------------------

SYSTEM = SystemVariables(
    name="", device_id=DEVICE_ID, firmware="1.10.0", now=ENSOR_MOMENT + 4,
    meter_status="OK", interface=Interface.P1,
    plug={"usb": 5.16, "p1": 5.23, "mbus": 0.0},
    wifi={"mode": "sta", "sta.status": "ok", "sta.ssid": "sjj"},
    ethernet={"state": "down", "ip": "0.0.0.0"},
)


def test_variables_keep_the_manuals_order_and_names() -> None:
    documented = [next(iter(item)) for item in doc_json_blocks("30-mqtt/local-reading.md")[0]]
    names = [name for name, _ in variables(ensor_report(), SYSTEM, ZURICH)]
    documented = [n for n in documented if n in names or not n.startswith(("wifi.", "eth."))]
    positions = [names.index(n) for n in documented]
    assert positions == sorted(positions), "variables out of the documented order"


def test_variables_are_strings_with_null_for_unsent_numbers() -> None:
    pairs = dict(variables(ensor_report(), SYSTEM, ZURICH))
    assert all(isinstance(v, str) for v in pairs.values())
    assert pairs["3_8_0"] == "null"  # the Ensor meter sends no reactive energy
    assert pairs["1_8_0"] == pairs["energy.in"] != "null"
    assert pairs["tariff"] == "1"
    assert pairs["meter.type"] == "ESR51030712084367"
    assert pairs["meter.date_time"] == "2025-01-22T11:54:05Z"
    assert pairs["sys.date_time"] == "2025-01-22T11:54:06Z"
    assert pairs["timestamp"] == str(int(ensor_report().timestamp))


def test_variables_before_any_frame() -> None:
    pairs = dict(variables(None, SYSTEM, ZURICH))
    assert pairs["1_7_0"] == "null" and pairs["meter.id"] == "" and pairs["timestamp"] == "null"


def test_signed_current_follows_the_direction_of_power() -> None:
    reading = MeterReading(MeterProtocol.DLMS, {"31.7.0": 5.0, "21.7.0": 0.0, "22.7.0": 1100.0})
    pairs = dict(variables(Report(1, 0, ENSOR_MOMENT, reading, Interface.MBUS), SYSTEM, ZURICH))
    assert pairs["s31_7_0"] == "-5"
    assert pairs["s51_7_0"] == "null"


def test_variables_snapshot() -> None:
    assert_snapshot("ensor-ers/variables", variables(ensor_report(), SYSTEM, ZURICH))


def test_snapshots_folder_is_committed() -> None:
    assert Path(__file__).resolve().parents[2].joinpath("snapshots").is_dir()
