"""The broker-outage example scenario against a device with its embedded broker: the
broker stops for 40 s of device time, the device's MQTT client loses it and comes back
once it is up again; the meter side goes on. A scaled clock (speed 20): the MQTT client
and the broker talk over real sockets in real time."""

from __future__ import annotations

import json
import socket
import time

from emulator.testing.plugin import Factory
from tests.conftest import PROJECT_ROOT

HANG_GUARD_S = 60.0
SCENARIO = PROJECT_ROOT / "fixtures" / "scenarios" / "broker-outage.json"


def test_the_mqtt_client_loses_the_broker_and_comes_back(whatwatt_factory: Factory) -> None:
    # A fixed port: a broker started again on port 0 would take another free one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    device = whatwatt_factory(clock="scaled", speed=20, mqtt_broker=port)
    answer = device.post("/api/v1/mqtt/settings", {
        "enable": True, "url": f"mqtt://127.0.0.1:{port}", "client_id": "whatwattGO",
        "publish": {"topic": "energy/go", "template": "{}"}})
    assert answer.status == 200, answer.text
    seen: list[tuple[str, str]] = []  # (broker, mqtt client) from the scenario's start
    deadline = time.monotonic() + HANG_GUARD_S
    with device.ui_stream() as stream:
        for name, data in stream:
            assert time.monotonic() < deadline, seen
            if name != "state":
                continue
            services = json.loads(data)["services"]
            now = (services["broker"]["state"], services["mqtt"]["state"])
            if not seen and now == ("running", "running"):
                device.run_scenario(json.loads(SCENARIO.read_text()))
            if seen or now == ("running", "running"):
                seen.append(now)
            if now[1] == "running" and any(mqtt != "running" for _, mqtt in seen):
                break
    brokers = [broker for broker, _ in seen]
    assert brokers[0] == "running" and "stopped" in brokers
    assert seen[-1] == ("running", "running")
    assert device.status() == "OK"
