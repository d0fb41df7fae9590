"""The four read endpoints over real HTTP: shapes, headers, errors, the live stream."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient

from emulator.device.core import Device
from meter_protocols.readings import FrameDecoded, Interface
from tests.support import (
    ManualClock,
    assert_snapshot,
    doc_json_blocks,
    ensor_readings,
    key_paths,
)


def feed(device: Device, clock: ManualClock, count: int = 3) -> None:
    device.link_listening(Interface.P1, "test")
    for reading in ensor_readings(count):
        clock.advance(1.0)
        device.on_event(FrameDecoded(reading, 900), Interface.P1)


@pytest.mark.parametrize("path", ["/api/v1/system", "/api/v1/report", "/api/v1/variables"])
async def test_json_endpoints_send_the_devices_headers(client: TestClient, path: str) -> None:  # type: ignore[type-arg]
    response = await client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    json.loads(await response.text())


async def test_unknown_paths_and_methods_answer_like_the_device(client: TestClient) -> None:  # type: ignore[type-arg]
    missing = await client.get("/api/v1/nothing")
    assert missing.status == 404
    assert await missing.text() == "This URI does not exist"
    wrong = await client.delete("/api/v1/report")
    assert wrong.status == 405


async def test_system_has_every_field_of_the_documented_example(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    feed(device, clock)
    body = await (await client.get("/api/v1/system")).json()
    documented = doc_json_blocks("10-general/system-info.md")[0]
    assert key_paths(body) == key_paths(documented)
    assert body["device"]["id"] == "A842E39F8124"
    assert body["meter"]["status"] == "OK"
    assert body["meter"]["interface"] == "P1"
    assert body["meter"]["manufacturer"] == "Ensor"
    assert body["meter"]["report_interval"] == 1
    assert body["device"]["time_since_boot"] == 3
    assert body["device"]["license"]["type"] == "PLUS"


async def test_system_before_any_meter(client: TestClient) -> None:  # type: ignore[type-arg]
    body = await (await client.get("/api/v1/system")).json()
    assert body["meter"]["status"] == "NOT CONNECTED"
    assert body["meter"]["interface"] == "NONE"
    assert body["meter"]["protocol"] == "" and body["meter"]["tariff"] == 0


async def test_report_follows_the_latest_frame(client: TestClient, device: Device,
                                               clock: ManualClock) -> None:  # type: ignore[type-arg]
    feed(device, clock, 2)
    first = await (await client.get("/api/v1/report")).json()
    feed(device, clock, 1)
    second = await (await client.get("/api/v1/report")).json()
    assert (first["report"]["id"], second["report"]["id"]) == (2, 3)
    assert second["system"]["time_since_boot"] == 3
    assert second["meter"]["status"] == "OK"


async def test_report_shows_the_current_status_with_the_last_values(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    feed(device, clock, 2)
    device.link_lost("unplugged")
    body = await (await client.get("/api/v1/report")).json()
    assert body["meter"]["status"] == "NOT CONNECTED"
    assert body["report"]["id"] == 2


async def test_report_before_the_first_frame(client: TestClient) -> None:  # type: ignore[type-arg]
    body = await (await client.get("/api/v1/report")).json()
    assert set(body) == {"report", "meter", "system"}
    assert body["report"]["id"] == 0 and body["report"]["conv_factor"] == 1
    assert body["meter"] == {"status": "NOT CONNECTED", "interface": "NONE"}


async def test_report_and_system_snapshots(client: TestClient, device: Device,
                                           clock: ManualClock) -> None:  # type: ignore[type-arg]
    feed(device, clock)
    report = await (await client.get("/api/v1/report")).json()
    report["system"]["boot_id"] = "BOOT_ID"  # random per boot
    assert_snapshot("ensor-ers/api_report", report)
    system = await (await client.get("/api/v1/system")).json()
    assert_snapshot("ensor-ers/api_system", system)


async def test_variables_are_single_key_objects(client: TestClient, device: Device,
                                                clock: ManualClock) -> None:  # type: ignore[type-arg]
    feed(device, clock)
    body = await (await client.get("/api/v1/variables")).json()
    assert all(isinstance(item, dict) and len(item) == 1 for item in body)
    names = [next(iter(item)) for item in body]
    # The manual's head, with the newer template page's date-time variants after their base.
    assert names[:7] == ["sys.name", "sys.id", "sys.firmware", "sys.date_time",
                         "sys.date_time_local", "sys.date_time_utc", "1_8_0"]
    values = {k: v for item in body for k, v in item.items()}
    assert values["meter.status"] == "OK" and values["plug.interface"] == "P1"
    assert values["wifi.sta.mac"] == "A842E39F8124"
    assert values["eth.state"] == "down"


async def read_event(response: object) -> dict[str, object]:
    lines = []
    while True:
        line = await response.content.readline()  # type: ignore[attr-defined]
        if line == b"\n":
            break
        assert line, "stream ended"
        lines.append(line)
    assert lines[0] == b"event: live\n"
    assert lines[1].startswith(b"data: ") and lines[1].endswith(b"\n")
    assert not any(b"\r" in line for line in lines)  # LF line endings
    return json.loads(lines[1][len(b"data: "):])  # type: ignore[no-any-return]


async def test_live_sends_one_event_per_report(client: TestClient, device: Device,
                                               clock: ManualClock) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/live")
    assert response.headers["Content-Type"] == "text/event-stream"
    await asyncio.sleep(0.05)  # let the handler subscribe
    feed(device, clock, 2)
    first, second = await read_event(response), await read_event(response)
    assert first["P_In"] != second["P_In"] or first["V_P1"] != second["V_P1"]
    assert first["E_In"] == 68.092
    response.close()


async def test_a_new_live_client_closes_the_previous_one(client: TestClient, device: Device,
                                                         clock: ManualClock) -> None:  # type: ignore[type-arg]
    old = await client.get("/api/v1/live")
    await asyncio.sleep(0.05)
    new = await client.get("/api/v1/live")
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(old.content.read(), 2) == b""  # the old stream ended
    feed(device, clock, 1)
    event = await read_event(new)
    assert "P_In" in event
    new.close()
