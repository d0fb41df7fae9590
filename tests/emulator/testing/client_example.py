"""A client developer's test file: it uses only the whatwatt plugin's fixtures (installed
with the package), no project internals. The README shows it; the project's tests run it
with pytester and, in a fresh virtual environment, after `pip install`."""

import json
import time

import pytest

START = time.perf_counter()


@pytest.mark.whatwatt(profile="ensor-ers", license="plus", seed=42)
def test_the_mock_device(whatwatt_device):
    device = whatwatt_device  # started on a manual clock; the meter already reads OK
    report = device.report()
    assert report["meter"]["status"] == "OK"

    # Force a value: the next frame carries it, in the report and in the live stream.
    with device.live() as live:
        device.set_values({"1.7.0": 1234.0})  # active power +, in W
        device.advance(1)  # one frame: delivered, decoded, reported before this returns
        event = live.next_json("live")
    assert device.report()["report"]["instantaneous_power"]["active"]["positive"][
        "total"] == pytest.approx(1.234)
    assert event["P_In"] == pytest.approx(1.234)

    # Silence the meter: NO DATA once the device's silence rule says so.
    device.silence()
    device.wait_for_status("NO DATA", within_s=30)
    system = json.loads(device.get("/api/v1/system").body)
    assert system["meter"]["status"] == "NO DATA"

    # No Plus licence: the licensed endpoints answer 404 License required.
    device.set_license("FREE")
    answer = device.get("/api/v1/report")
    assert (answer.status, answer.text) == (404, "License required")
    print(f"client example: {time.perf_counter() - START:.2f} s of wall time")
