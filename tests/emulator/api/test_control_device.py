"""The device side of the control API over real HTTP (the plugin's device, manual clock):
licence and protection at run time, reboot, power cut, brownout, a service switched off,
the meter's key and a change that reverts itself, the clock's mode and advance, the state
read-back."""

from __future__ import annotations

import base64
import json

import pytest

from emulator.testing import ControlError, WhatwattDevice

HEX = "00112233445566778899AABBCCDDEEFF"


def boot_id(device: WhatwattDevice) -> str:
    return str(device.state()["device"]["boot_id"])


def test_the_state_reads_back_device_meter_clock_and_faults(
        whatwatt_device: WhatwattDevice) -> None:
    state = whatwatt_device.state()
    assert set(state) == {"device", "meter", "clock", "faults", "scenario", "services"}
    assert state["device"]["id"] == "A842E39F8124"
    assert state["device"]["license"] == "PLUS" and state["device"]["protection"] is False
    assert state["meter"]["link"]["status"] == "OK"
    assert state["meter"]["virtual_meter"]["profile"] == "ensor-ers"
    assert state["clock"]["mode"] == "manual"
    assert state["faults"] == [] and state["scenario"] is None
    assert "mqtt" in state["services"]
    uptime = state["device"]["uptime_s"]
    whatwatt_device.advance(10)
    assert whatwatt_device.state()["device"]["uptime_s"] == pytest.approx(uptime + 10)


def test_the_licence_changes_at_run_time_and_comes_back(
        whatwatt_device: WhatwattDevice) -> None:
    assert whatwatt_device.set_license("free", duration_s=20) == {"license": "FREE"}
    answer = whatwatt_device.get("/api/v1/report")
    assert (answer.status, answer.text) == (404, "License required")
    assert whatwatt_device.get("/api/v1/system").status == 200
    whatwatt_device.advance(20)
    assert whatwatt_device.control("GET", "license") == {"license": "PLUS"}
    assert whatwatt_device.get("/api/v1/report").status == 200
    with pytest.raises(ControlError, match="400"):
        whatwatt_device.set_license("GOLD")


def test_protection_switched_on_asks_for_the_password(
        whatwatt_device: WhatwattDevice) -> None:
    assert whatwatt_device.set_protection("s3cret") == {"enabled": True}
    assert whatwatt_device.get("/api/v1/system", auth=False).status == 401
    auth = {"Authorization": "Basic " + base64.b64encode(b":s3cret").decode()}
    assert whatwatt_device.get("/api/v1/system", auth=False, headers=auth).status == 200
    assert whatwatt_device.get("/api/v1/system").status == 200  # the helpers know it
    assert whatwatt_device.set_protection(None) == {"enabled": False}
    assert whatwatt_device.get("/api/v1/system", auth=False).status == 200


@pytest.mark.whatwatt(password="pw")
def test_the_marker_starts_a_protected_device(whatwatt_device: WhatwattDevice) -> None:
    assert whatwatt_device.get("/api/v1/report", auth=False).status == 401
    assert whatwatt_device.report()["meter"]["status"] == "OK"


def test_a_reboot_begins_a_new_boot(whatwatt_device: WhatwattDevice) -> None:
    before = boot_id(whatwatt_device)
    assert whatwatt_device.reboot() == {"event": "reboot", "accepted": True}
    whatwatt_device.advance(0)
    assert boot_id(whatwatt_device) != before
    assert whatwatt_device.wait_for_status("OK") == "OK"


def test_a_power_cut_keeps_the_settings_and_begins_a_new_boot(
        whatwatt_device: WhatwattDevice) -> None:
    answer = whatwatt_device.post("/api/v1/meter/settings", {"conv_factor": 2.5})
    assert answer.status == 200, answer.text
    before = boot_id(whatwatt_device)
    assert whatwatt_device.power_cut()["accepted"] is True
    whatwatt_device.advance(0)
    assert boot_id(whatwatt_device) != before
    assert whatwatt_device.state()["device"]["uptime_s"] == 0
    assert whatwatt_device.get("/api/v1/meter/settings").json()["conv_factor"] == 2.5
    # ... read back from the data dir, where they were before the cut
    stored = json.loads((whatwatt_device.data_dir / "settings" / "meter.json").read_text())
    assert stored["settings"]["conv_factor"] == 2.5


def test_a_brownout_lowers_v_scap_then_restarts(whatwatt_device: WhatwattDevice) -> None:
    before = boot_id(whatwatt_device)
    normal = whatwatt_device.get("/api/v1/system").json()["device"]["plug"]["v_scap"]
    answer = whatwatt_device.post("/emulator/v1/device", {"event": "brownout",
                                                          "duration_s": 10})
    assert (answer.status, answer.json()) == (202, {"event": "brownout", "accepted": True})
    whatwatt_device.advance(5)
    sagging = whatwatt_device.get("/api/v1/system").json()["device"]["plug"]["v_scap"]
    assert sagging < normal
    assert boot_id(whatwatt_device) == before
    whatwatt_device.advance(6)
    assert boot_id(whatwatt_device) != before
    assert whatwatt_device.get("/api/v1/system").json()["device"]["plug"]["v_scap"] == normal


@pytest.mark.parametrize("body", [{"event": "explode"}, {"event": "reboot", "duration_s": 3},
                                  {"event": "brownout", "duration_s": -1}])
def test_a_bad_device_event_is_refused(whatwatt_device: WhatwattDevice, body: object) -> None:
    before = boot_id(whatwatt_device)
    assert whatwatt_device.post("/emulator/v1/device", body).status == 400
    whatwatt_device.advance(1)
    assert boot_id(whatwatt_device) == before


def test_a_service_is_switched_off_for_a_while(whatwatt_device: WhatwattDevice) -> None:
    states = whatwatt_device.control("POST", "services", {"name": "actions", "running": False,
                                                          "duration_s": 15})
    assert states["actions"]["state"] != "running"
    whatwatt_device.advance(15)
    assert whatwatt_device.control("GET", "services")["actions"]["state"] == "running"
    with pytest.raises(ControlError, match="400"):
        whatwatt_device.control("POST", "services", {"name": "kettle", "running": False})


@pytest.mark.whatwatt(profile="kaifa-ma309")
def test_a_new_meter_key_makes_the_devices_key_wrong_until_it_reverts(
        whatwatt_device: WhatwattDevice) -> None:
    keys = whatwatt_device.state()["meter"]["virtual_meter"]["keys"]
    whatwatt_device.change_key(HEX, duration_s=30)
    assert whatwatt_device.wait_for_status("ENCRYPTION KEY", within_s=20) == "ENCRYPTION KEY"
    whatwatt_device.advance(30)
    assert whatwatt_device.wait_for_status("OK", within_s=20) == "OK"
    assert whatwatt_device.state()["meter"]["virtual_meter"]["keys"] == keys


def test_a_silenced_meter_speaks_again_after_the_duration(
        whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.silence(duration_s=20)
    assert whatwatt_device.wait_for_status("NO DATA", within_s=15) == "NO DATA"
    whatwatt_device.advance(20)
    assert whatwatt_device.state()["meter"]["virtual_meter"]["silent"] is False
    assert whatwatt_device.wait_for_status("OK", within_s=5) == "OK"


def test_forced_values_revert_after_the_duration(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.set_values({"1.7.0": 4321}, duration_s=3)
    whatwatt_device.advance(1)
    assert whatwatt_device.report()["report"]["instantaneous_power"]["active"][
        "positive"]["total"] == pytest.approx(4.321)
    whatwatt_device.advance(3)
    assert whatwatt_device.state()["meter"]["virtual_meter"]["values"] == {}
    assert whatwatt_device.report()["report"]["instantaneous_power"]["active"][
        "positive"]["total"] != pytest.approx(4.321)


def test_advance_needs_a_manual_clock(whatwatt_factory: object) -> None:
    device = whatwatt_factory(clock="scaled", speed=50)  # type: ignore[operator]
    assert device.state()["clock"]["mode"] == "scaled"
    answer = device.post("/emulator/v1/clock", {"advance_s": 5})
    assert answer.status == 400 and "manual clock" in answer.text


def test_advance_refuses_what_it_cannot_do(whatwatt_device: WhatwattDevice) -> None:
    for bad in (-1, "5", True, 1e9):
        assert whatwatt_device.post("/emulator/v1/clock", {"advance_s": bad}).status == 400
    assert whatwatt_device.control("GET", "clock")["mode"] == "manual"
