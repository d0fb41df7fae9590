"""HTTP faults of the control API, over real HTTP against a device of the pytest plugin
(its own thread and loop, a manual clock): latency, an error status, a dropped connection,
an SSE stream that ends after N events, each clearing itself after duration_s of device
time; the emulator's own routes are never faulted."""

from __future__ import annotations

import http.client
import time
import urllib.error

import pytest

from emulator.testing import ControlError, WhatwattDevice


def test_an_error_status_comes_with_the_devices_own_body(
        whatwatt_device: WhatwattDevice) -> None:
    fault = whatwatt_device.fault("/api/v1/report", status=503)
    answer = whatwatt_device.get("/api/v1/report")
    assert (answer.status, answer.text) == (503, "Service unavailable")
    assert answer.headers["Content-Type"].startswith("text/html")
    assert whatwatt_device.get("/api/v1/system").status == 200  # another route: untouched
    assert fault == {"id": fault["id"], "route": "/api/v1/report", "method": None,
                     "latency_ms": None, "status": 503, "drop": False, "sse_stop_after": None,
                     "duration_s": None, "expires": None}
    assert whatwatt_device.control("GET", "faults") == [fault]


def test_a_fault_clears_itself_after_its_duration_of_device_time(
        whatwatt_device: WhatwattDevice) -> None:
    fault = whatwatt_device.fault("/api/v1/*", status=500, duration_s=10)
    assert fault["duration_s"] == 10 and fault["expires"] is not None
    whatwatt_device.advance(9)
    assert whatwatt_device.get("/api/v1/report").status == 500
    assert len(whatwatt_device.state()["faults"]) == 1
    whatwatt_device.advance(2)
    assert whatwatt_device.get("/api/v1/report").status == 200
    assert whatwatt_device.control("GET", "faults") == []


def test_latency_delays_the_answer(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.fault("/api/v1/system", latency_ms=300, method="GET")
    started = time.perf_counter()
    answer = whatwatt_device.get("/api/v1/system")
    waited = time.perf_counter() - started
    assert answer.status == 200
    # A lower bound only (the delay is a sleep of at least that long); no upper bound.
    assert waited >= 0.29
    assert whatwatt_device.post("/api/v1/system").status == 405  # not a GET: not delayed


def test_a_dropped_connection_gets_no_answer(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.fault("/api/v1/report", drop=True, duration_s=5)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError,
                        urllib.error.URLError)):
        whatwatt_device.get("/api/v1/report")
    whatwatt_device.advance(5)
    assert whatwatt_device.get("/api/v1/report").status == 200


def test_an_sse_stream_stops_after_n_events(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.fault("/api/v1/live", sse_stop_after=2, duration_s=30)
    with whatwatt_device.live() as live:
        whatwatt_device.advance(4)  # four frames; the stream ends after two events
        events = [name for name, _ in live.events()]
    assert events == ["live", "live"]
    whatwatt_device.advance(30)
    with whatwatt_device.live() as live:
        whatwatt_device.advance(3)
        assert [live.next_json("live") for _ in range(3)]  # no limit any more


def test_the_control_routes_are_never_faulted(whatwatt_device: WhatwattDevice) -> None:
    whatwatt_device.fault("/*", status=500)
    assert whatwatt_device.get("/api/v1/system").status == 500
    assert whatwatt_device.get("/emulator/v1/state").status == 200
    with pytest.raises(ControlError, match=r"400.*emulator's own routes"):
        whatwatt_device.fault("/emulator/v1/state", status=500)


def test_faults_are_deleted_one_by_one_or_all(whatwatt_device: WhatwattDevice) -> None:
    first = whatwatt_device.fault("/api/v1/report", status=502)
    second = whatwatt_device.fault("/api/v1/system", status=504)
    whatwatt_device.control("DELETE", f"faults/{first['id']}")
    assert [f["id"] for f in whatwatt_device.control("GET", "faults")] == [second["id"]]
    with pytest.raises(ControlError, match="404"):
        whatwatt_device.control("DELETE", f"faults/{first['id']}")
    whatwatt_device.clear_faults()
    assert whatwatt_device.control("GET", "faults") == []
    assert whatwatt_device.get("/api/v1/system").status == 200


@pytest.mark.parametrize(("body", "why"), [
    ({"route": "/api/v1/report"}, "needs latency_ms, status, drop or sse_stop_after"),
    ({"route": "api/v1/report", "status": 500}, "route"),
    ({"route": "/api/v1/report", "status": 99}, "status"),
    ({"route": "/api/v1/report", "status": 500, "method": "BREW"}, "method"),
    ({"route": "/api/v1/report", "drop": "yes"}, "drop"),
    ({"route": "/api/v1/report", "status": 500, "duration_s": 0}, "duration_s"),
    ({"route": "/api/v1/report", "status": 500, "colour": "red"}, "colour"),
    ([1, 2], "JSON object"),
])
def test_a_bad_fault_is_refused_and_nothing_is_added(whatwatt_device: WhatwattDevice,
                                                     body: object, why: str) -> None:
    answer = whatwatt_device.post("/emulator/v1/faults", body)
    assert answer.status == 400
    assert why in answer.text
    assert whatwatt_device.control("GET", "faults") == []
