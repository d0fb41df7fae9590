"""The MQTT template engine against the documentation's example, the Home Assistant
integration's template, and the edge cases the documents leave open."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from emulator.device.faces.variables import SystemVariables, variables
from emulator.device.template import Template, render
from emulator.device.values import Report
from meter_protocols.readings import (
    Interface,
    MbusChannel,
    MeterIdentity,
    MeterProtocol,
    MeterReading,
)
from tests.conftest import spec_file
from tests.support import ZURICH

DOC_DEVICE = "ECC9FF5C7F14"  # the template page's example device
#: The template page's generated message: 17 November 2025 15:52:50 local time.
DOC_MOMENT = datetime(2025, 11, 17, 15, 52, 50, tzinfo=ZURICH)


def system(device_id: str = DOC_DEVICE, status: str = "OK") -> SystemVariables:
    return SystemVariables(
        name="", device_id=device_id, firmware="1.10.0", now=DOC_MOMENT.timestamp() + 1,
        meter_status=status, interface=Interface.P1,
        plug={"usb": 5.16, "p1": 5.23, "mbus": 2.83},
        wifi={"mode": "sta", "sta.status": "ok"}, ethernet={"state": "down"})


def doc_report(**values: float) -> Report:
    """The report behind the template page's example: 14 W in, 0 W out, 200934 Wh in,
    8965 Wh out, the meter's clock at DOC_MOMENT."""
    base = {"1.7.0": 14.0, "2.7.0": 0.0, "1.8.0": 200934.0, "2.8.0": 8965.0}
    base.update(values)
    reading = MeterReading(MeterProtocol.DSMR, base, MeterIdentity(meter_id="636192"),
                           meter_time=DOC_MOMENT, tariff=1)
    return Report(7, 10.0, DOC_MOMENT.timestamp() + 0.3, reading, Interface.P1)


def table(report: Report | None = None, **kwargs: str) -> dict[str, str]:
    return dict(variables(report or doc_report(), system(**kwargs), ZURICH))


def raw_json_blocks(relative: str) -> list[str]:
    text = spec_file("whatwatt-docs", "docs", relative).read_text("utf-8")
    return re.findall(r"```json\n(.*?)\n```", text, re.S)


def test_the_documented_example_renders_exactly_the_documented_message() -> None:
    template, message = raw_json_blocks("30-mqtt/template.md")[:2]
    assert "${1_7_0}" in template  # the page's template, not yet valid JSON
    assert render(template, table()) == message


def test_the_mqtt_client_pages_example_template_renders_to_json() -> None:
    page = spec_file("whatwatt-docs", "docs", "30-mqtt", "mqtt-client.md").read_text("utf-8")
    example = json.loads(re.findall(r"```json\n(.*?)\n```", page, re.S)[0])
    out = json.loads(render(example["publish"]["template"], table()))
    assert out == {"P_In": 0.014, "P_Out": 0, "E_In": 200.934, "E_Out": 8.965,
                   "Meter": {"DateTime": "2025-11-17T15:52:50Z"}, "Sys": {"Id": DOC_DEVICE}}


#: The Home Assistant integration's README template: every value quoted.
HA_TEMPLATE = """{
  "sys_id":"${sys.id}",
  "meter_id":"${meter.id}",
  "time":"${timestamp}",
  "power_in":"${1_7_0}",
  "power_out":"${2_7_0}",
  "power_in_l1":"${21_7_0}",
  "power_in_l2":"${41_7_0}",
  "power_in_l3":"${61_7_0}",
  "power_out_l1":"${22_7_0}",
  "power_out_l2":"${42_7_0}",
  "power_out_l3":"${62_7_0}",
  "energy_in":"${1_8_0}",
  "energy_out":"${2_8_0}",
  "energy_in_t1":"${1_8_1}",
  "energy_in_t2":"${1_8_2}",
  "energy_out_t1":"${2_8_1}",
  "energy_out_t2":"${2_8_2}",
  "voltage_l1":"${32_7_0}",
  "voltage_l2":"${52_7_0}",
  "voltage_l3":"${72_7_0}",
  "current_l1":"${31_7_0}",
  "current_l2":"${51_7_0}",
  "current_l3":"${71_7_0}",
  "power_factor":"${13_7_0}",
  "apparent_power":"${9_7_0}",
  "reactive_power_in":"${3_7_0}",
  "reactive_power_out":"${4_7_0}",
  "reactive_energy_in":"${3_8_0}",
  "reactive_energy_out":"${4_8_0}",
  "tariff":"${tariff}"
}"""


def test_the_home_assistant_template_quotes_every_value() -> None:
    report = doc_report(**{"21.7.0": 14.0, "32.7.0": 231.2, "31.7.0": 0.06, "13.7.0": 0.98})
    out = render(HA_TEMPLATE, table(report, device_id="A842E39F8124"))
    expected = {
        "sys_id": "A842E39F8124", "meter_id": "636192",
        "time": str(int(DOC_MOMENT.timestamp())),
        "power_in": "0.014", "power_out": "0", "power_in_l1": "0.014",
        "power_in_l2": "null", "power_in_l3": "null", "power_out_l1": "null",
        "power_out_l2": "null", "power_out_l3": "null",
        "energy_in": "200.934", "energy_out": "8.965", "energy_in_t1": "null",
        "energy_in_t2": "null", "energy_out_t1": "null", "energy_out_t2": "null",
        "voltage_l1": "231.2", "voltage_l2": "null", "voltage_l3": "null",
        "current_l1": "0.06", "current_l2": "null", "current_l3": "null",
        "power_factor": "0.98", "apparent_power": "null", "reactive_power_in": "null",
        "reactive_power_out": "null", "reactive_energy_in": "null",
        "reactive_energy_out": "null", "tariff": "1",
    }
    assert json.loads(out) == expected
    # Only the references changed: the template's layout is kept byte for byte.
    assert out.splitlines()[1] == '  "sys_id":"A842E39F8124",'


def test_missing_numbers_are_null_and_missing_texts_empty() -> None:
    out = render('{"q":${3_7_0},"model":"${meter.model}","vendor":"${meter.vendor}"}',
                 table())
    assert json.loads(out) == {"q": None, "model": "", "vendor": ""}
    before_any_frame = dict(variables(None, system(status="NOT CONNECTED"), ZURICH))
    assert render("${1_7_0}|${meter.id}|${meter.status}", before_any_frame) == \
        "null||NOT CONNECTED"


def test_unknown_variables_stay_verbatim() -> None:
    assert render('{"a":${no_such},"b":${1_7_0}}', table()) == '{"a":${no_such},"b":0.014}'
    assert render("${SYS.ID} ${ sys.id }", table()) == "${SYS.ID} ${ sys.id }"


@pytest.mark.parametrize(("template", "expected"), [
    ("cost $5", "cost $5"),                                   # $ without {
    ("$$${sys.id}$", f"$${DOC_DEVICE}$"),                     # $ before a reference
    ("end ${sys.id", "end ${sys.id"),                         # never closed
    ("${sys.id}${", f"{DOC_DEVICE}${{"),                      # a last unclosed ${
    ("${a${sys.id}}", "${a${sys.id}}"),                       # first } closes: "a${sys.id"
    ("${${sys.id}}", "${${sys.id}}"),
    ("{${sys.id}}", f"{{{DOC_DEVICE}}}"),                     # braces around are text
    ("${}", "${}"),                                           # empty name: unknown
    ("", ""),
    ("${sys.id}${sys.id}", DOC_DEVICE * 2),
    ("line\n\t${tariff}\r\n", "line\n\t1\r\n"),
    ("€ ${sys.id} ü", f"€ {DOC_DEVICE} ü"),
])
def test_edge_cases(template: str, expected: str) -> None:
    assert render(template, table()) == expected


def test_the_output_can_be_any_text() -> None:
    csv = render("${timestamp};${1_8_0};${2_8_0}", table())
    assert csv == f"{int(DOC_MOMENT.timestamp())};200.934;8.965"
    assert render("${1_7_0}", table()) == "0.014"


def test_a_parsed_template_renders_like_render() -> None:
    parsed = Template.parse("a${1_7_0}b${x}c${sys.id")
    assert parsed.names == ("1_7_0", "x")
    assert parsed.render(table()) == render(parsed.source, table()) == "a0.014b${x}c${sys.id"


def test_newer_date_time_variants_and_volume_variables() -> None:
    channel = MbusChannel(bus=1, meter_id="12345678", value=1234.567,
                          captured_at=datetime(2025, 11, 17, 15, 0, tzinfo=ZURICH))
    reading = MeterReading(MeterProtocol.DSMR, {"1.7.0": 14.0}, meter_time=DOC_MOMENT,
                           mbus=(channel,))
    report = Report(1, 0, DOC_MOMENT.timestamp(), reading, Interface.P1)
    values = table(report)
    assert values["meter.date_time"] == "2025-11-17T15:52:50Z"  # local, literal Z
    assert values["meter.date_time_local"] == "2025-11-17T15:52:50+01:00"
    assert values["meter.date_time_utc"] == "2025-11-17T14:52:50Z"
    assert values["sys.date_time_utc"] == "2025-11-17T14:52:51Z"
    assert render("${vol[0].bus} ${vol[0].meter_id} ${vol[0].date_time} "
                  "${vol[0].cumulative} ${vol[1].bus}", values) == \
        "1 12345678 2025-11-17T14:00:00Z 1234.567 ${vol[1].bus}"
    assert not any(name.startswith("vol[") for name in table())  # no sub-meter: none
