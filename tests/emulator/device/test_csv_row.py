"""The SD card's CSV row: the documented 64 columns in order, and values that agree with the
report JSON of the same report."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

from emulator.device.faces.csv_row import HEADER, NAMES, RowContext, csv_row
from emulator.device.faces.report_json import report_object
from emulator.device.values import Report
from meter_protocols.readings import Interface, MeterIdentity
from tests.conftest import spec_file
from tests.support import ZURICH, ensor_readings

#: Columns -> the report JSON's path for the same value.
REPORT_PATHS = {
    "EAP_T": "energy.active.positive.total", "EAP_T1": "energy.active.positive.t1",
    "EAP_T2": "energy.active.positive.t2", "EAN_T1": "energy.active.negative.t1",
    "IPAP_T": "instantaneous_power.active.positive.total",
    "IPAP_L2": "instantaneous_power.active.positive.l2",
    "IPAN_L3": "instantaneous_power.active.negative.l3",
    "V_L1": "voltage.l1", "V_L3": "voltage.l3", "I_L2": "current.l2",
}


def documented_columns() -> list[str]:
    text = spec_file("whatwatt-docs", "docs", "50-settings", "sdcard",
                     "csv-format.md").read_text("utf-8")
    table = text.split("| Field | OBIS (C.D.E)", 1)[1]
    return re.findall(r"^\| ([A-Z0-9_]+) \|", table, re.M)


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def report(index: int = 1, **changes: object) -> Report:
    readings = ensor_readings(index + 1)
    base = Report(id=7, interval=1.004, received_at=readings[index].meter_time.timestamp()
                  if readings[index].meter_time else 0.0, reading=readings[index],
                  interface=Interface.P1)
    return replace(base, **changes)  # type: ignore[arg-type]


def at(obj: dict[str, object], path: str) -> object:
    for key in path.split("."):
        obj = obj[key]  # type: ignore[assignment]
    return obj


def test_the_header_is_the_documented_64_columns_in_order() -> None:
    assert len(NAMES) == 64
    assert list(NAMES) == documented_columns()
    assert parse(HEADER) == [list(NAMES)]
    # The sample header of the page, too.
    text = spec_file("whatwatt-docs", "docs", "50-settings", "sdcard",
                     "csv-format.md").read_text("utf-8")
    sample = re.search(r"```csv\n(RID,.*)\n", text)
    assert sample is not None and sample.group(1).split(",") == list(NAMES)


def test_a_row_parses_into_64_cells_that_agree_with_the_report_json() -> None:
    rep = report()
    row = csv_row(rep, RowContext("OK"))
    assert row.endswith("\n") and row.count("\n") == 1
    [cells] = parse(row)
    assert len(cells) == 64
    by_name = dict(zip(NAMES, cells, strict=True))
    body = report_object(rep, ZURICH)
    assert by_name["RID"] == str(body["id"]) == "7"
    assert by_name["RP"] == "1004"  # milliseconds
    assert by_name["TARIFF"] == str(body["tariff"])
    assert by_name["TIME"] == body["date_time_utc"]
    assert by_name["MSTAT"] == "OK"
    for column, path in REPORT_PATHS.items():
        assert float(by_name[column]) == at(body, path), column
    ident = rep.reading.identity
    assert (by_name["MID"], by_name["MIDENT"], by_name["MMODEL"]) == (
        ident.meter_id, ident.logical_name, ident.model)
    assert (by_name["MIF"], by_name["MPROT"]) == ("P1", "DSMR")


def test_text_is_quoted_and_missing_numbers_are_empty() -> None:
    row = csv_row(report(), RowContext("OK"))
    fields = row.rstrip("\n").split(",")
    by_name = dict(zip(NAMES, fields, strict=True))
    for text in ("TIME", "MID", "MSTAT", "MIDENT", "MMODEL", "MIF", "MPROT"):
        assert by_name[text].startswith('"') and by_name[text].endswith('"'), text
    # The Ensor meter sends no reactive energy, power factor or maximum demand.
    for missing in ("PF", "ERP_T", "ERII_T2", "MDAP_T", "IPA_T"):
        assert by_name[missing] == "", missing
    assert by_name["RID"] == "7" and by_name["TARIFF"] == "1"


def test_a_hostile_meter_id_stays_inside_its_cell() -> None:
    rep = report()
    odd = replace(rep.reading, identity=MeterIdentity(meter_id='a"b,c\r\nd', logical_name="x"))
    row = csv_row(replace(rep, reading=odd), RowContext("OK"))
    assert row.count("\n") == 1
    [cells] = parse(row)
    assert len(cells) == 64
    assert cells[NAMES.index("MID")] == 'a"b,c  d'
