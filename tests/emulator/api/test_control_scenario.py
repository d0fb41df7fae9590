"""Scenarios through the control API (the plugin's device, manual clock): the shipped
examples run and give the status sequences they describe, the same on two runs with the
same seed; a document that cannot run is refused whole; a step that fails at run time is
recorded and the run goes on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.api.controls import ACTIONS
from emulator.scenarios.model import ScenarioError, collapse, parse_scenario, read_document
from emulator.testing import WhatwattDevice
from emulator.testing.http import Response
from emulator.testing.plugin import Factory
from tests.conftest import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "fixtures" / "scenarios"


def document(name: str) -> Any:
    path = SCENARIOS / name
    text = path.read_text()
    return yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text)


def expected(doc: dict[str, Any]) -> list[str]:
    return parse_scenario(doc, ACTIONS).expected_statuses


def run(device: WhatwattDevice, doc: Any) -> list[str]:
    """The meter statuses seen second by second of device time while the scenario runs
    (and ten seconds more)."""
    device.run_scenario(doc)
    last = max(step["at_s"] for step in doc["steps"])
    seen = [device.status()]
    for _ in range(int(last) + 10):
        device.advance(1)
        seen.append(device.status())
    state = device.control("GET", "scenario")
    assert state["finished"] and state["errors"] == [] and state["done"] == state["total"]
    # What the scenario recorded is what the test saw (it may see more: no sampling).
    recorded = collapse(entry["status"] for entry in state["statuses"])
    assert recorded == collapse(seen)
    return collapse(seen)


@pytest.mark.parametrize(("name", "profile"), [("meter-unplugged.json", "ensor-ers"),
                                               ("wrong-key.yaml", "kaifa-ma309"),
                                               ("license-expiry.json", "ensor-ers")])
def test_an_example_gives_its_status_sequence_the_same_twice(
        whatwatt_factory: Factory, name: str, profile: str) -> None:
    doc = document(name)
    runs = [run(whatwatt_factory(profile=profile, seed=doc["seed"]), doc) for _ in range(2)]
    assert runs[0] == expected(doc)
    assert runs[1] == runs[0]


@pytest.mark.whatwatt(license="plus")
def test_the_licence_expiry_example_closes_the_report(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.run_scenario(document("license-expiry.json"))
    whatwatt_device.advance(21)
    answer = whatwatt_device.get("/api/v1/report")
    assert (answer.status, answer.text) == (404, "License required")
    whatwatt_device.advance(40)
    assert whatwatt_device.get("/api/v1/report").status == 200


def test_every_example_is_a_valid_scenario() -> None:
    names = sorted(path.name for path in SCENARIOS.iterdir())
    assert names == ["broker-outage.json", "license-expiry.json", "meter-unplugged.json",
                     "wrong-key.yaml"]
    for name in names:
        scenario = parse_scenario(read_document(SCENARIOS / name), ACTIONS)
        assert scenario.steps and scenario.description and scenario.seed is not None


def test_yaml_is_accepted_with_its_content_type(whatwatt_device: WhatwattDevice) -> None:
    body = (SCENARIOS / "wrong-key.yaml").read_bytes()
    # The device's meter (ensor-ers) sends in clear: its key cannot change, the step is
    # refused before anything runs.
    raw = request_yaml(whatwatt_device, body)
    assert raw.status == 400 and "step 1" in raw.text and "sends in clear" in raw.text
    assert whatwatt_device.get("/emulator/v1/scenario").status == 404
    ok = request_yaml(whatwatt_device, b"name: t\nsteps:\n  - {at_s: 5, do: check}\n")
    assert ok.status == 201
    assert ok.json()["total"] == 1 and ok.json()["next"] == {"at_s": 5.0, "do": "check"}


def request_yaml(device: WhatwattDevice, body: bytes) -> Any:
    req = urllib.request.Request(device.url + "/emulator/v1/scenario", data=body,
                                 method="POST", headers={"Content-Type": "application/yaml"})
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return Response(answer.status, answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(exc.code, exc.read())


@pytest.mark.parametrize(("doc", "why"), [
    ({"steps": [{"at_s": 1, "do": "check"}]}, "name"),
    ({"name": "x", "steps": []}, "steps"),
    ({"name": "x", "steps": [{"at_s": -1, "do": "check"}]}, "steps[0].at_s"),
    ({"name": "x", "steps": [{"at_s": 1, "do": "teleport"}]}, "steps[0].do"),
    ({"name": "x", "steps": [{"at_s": 1, "do": "check", "expect": "FINE"}]}, "expect"),
    ({"name": "x", "steps": [{"at_s": 1, "do": "meter", "silent": "yes"}]}, "silent"),
    ({"name": "x", "steps": [{"at_s": 1, "do": "clock", "advance_s": 5}]}, "advance_s"),
    ({"name": "x", "seed": "one", "steps": [{"at_s": 1, "do": "check"}]}, "seed"),
])
def test_a_scenario_that_cannot_run_is_refused_whole(whatwatt_device: WhatwattDevice,
                                                     doc: Any, why: str) -> None:
    answer = whatwatt_device.post("/emulator/v1/scenario", doc)
    assert answer.status == 400 and why in answer.text
    assert whatwatt_device.get("/emulator/v1/scenario").status == 404
    assert whatwatt_device.state()["scenario"] is None


def test_a_failing_step_is_recorded_and_the_run_goes_on(
        whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.run_scenario({"name": "x", "steps": [
        {"at_s": 1, "do": "protection", "enabled": True, "password": "p" * 40},
        {"at_s": 2, "do": "meter", "silent": True}]})
    whatwatt_device.advance(3)
    state = whatwatt_device.control("GET", "scenario")
    assert state["finished"] and state["done"] == 2
    assert [error["do"] for error in state["errors"]] == ["protection"]
    assert whatwatt_device.state()["meter"]["virtual_meter"]["silent"] is True


def test_a_stopped_scenario_runs_no_more_steps(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.run_scenario({"name": "x", "steps": [
        {"at_s": 10, "do": "meter", "silent": True}]})
    whatwatt_device.control("DELETE", "scenario")
    whatwatt_device.advance(20)
    assert whatwatt_device.state()["meter"]["virtual_meter"]["silent"] is False
    state = whatwatt_device.control("GET", "scenario")
    assert state["finished"] and state["done"] == 0 and state["next"] is None


def test_a_new_scenario_replaces_the_running_one(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.run_scenario({"name": "a", "steps": [
        {"at_s": 10, "do": "meter", "silent": True}]})
    whatwatt_device.run_scenario({"name": "b", "steps": [{"at_s": 1, "do": "check"}]})
    whatwatt_device.advance(20)
    assert whatwatt_device.state()["meter"]["virtual_meter"]["silent"] is False
    assert whatwatt_device.state()["scenario"]["name"] == "b"


def test_yaml_files_need_nothing_but_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        read_document(tmp_path / "bad.yaml")
    with pytest.raises(ScenarioError, match="cannot read"):
        read_document(tmp_path / "missing.json")
