"""/api/v1/meter/settings, the scalers, /api/v1/report/objects and the control API over
real HTTP: every invalid request answers 400 and changes no byte of what is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from emulator.device.core import Device
from tests.emulator.device.test_settings import INVALID_METER

SETTINGS = "/api/v1/meter/settings"


async def test_get_shows_every_field_and_no_key(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(SETTINGS)
    assert response.status == 200
    body = await response.json()
    assert body["auto_baudrate"] is True and body["if_type"] == "auto"
    assert "encryption_key" not in body and "authentication_key" not in body


async def test_put_merges_post_replaces_and_both_persist(client: TestClient,
                                                         device: Device,
                                                         tmp_path: Path) -> None:  # type: ignore[type-arg]
    key = "0123456789abcdef0123456789abcdef"
    put = await client.put(SETTINGS, json={"baudrate": 2400, "parity": "even",
                                           "encryption_key": key})
    assert put.status == 200
    body = await put.json()
    assert (body["baudrate"], body["parity"]) == (2400, "even")
    assert key not in await put.text()
    post = await client.post(SETTINGS, json={"conv_factor": 2})
    body = await post.json()
    assert (body["baudrate"], body["conv_factor"]) == (115200, 2)
    assert device.settings.get("meter")["encryption_key"] == ""  # POST: back to factory
    stored = (tmp_path / "settings" / "meter.json").read_text()
    assert '"conv_factor": 2' in stored


@pytest.mark.parametrize(("body", "field"), INVALID_METER)
@pytest.mark.parametrize("method", ["post", "put"])
async def test_invalid_meter_settings_get_400_and_change_nothing(
        client: TestClient, tmp_path: Path, method: str, body: object, field: str) -> None:  # type: ignore[type-arg]
    await client.put(SETTINGS, json={"baudrate": 2400, "parity": "even"})
    stored = (tmp_path / "settings" / "meter.json").read_bytes()
    response = await getattr(client, method)(SETTINGS, json=body)
    assert response.status == 400
    assert field in await response.text()
    assert (tmp_path / "settings" / "meter.json").read_bytes() == stored


@pytest.mark.parametrize("raw", [b"{", b"not json", b"\xff\xfe", b'{"baudrate": }'])
async def test_unparsable_json_is_400(client: TestClient, raw: bytes) -> None:  # type: ignore[type-arg]
    response = await client.put(SETTINGS, data=raw,
                                headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert "Invalid JSON" in await response.text()  # the one settings path's message


CUSTOM = "/api/v1/meter/scalers/custom"


async def test_custom_scalers_round_trip(client: TestClient) -> None:  # type: ignore[type-arg]
    assert await (await client.get(CUSTOM)).json() == []
    wanted = [{"obis": "1.7.0", "scaler": -1}, {"obis": "2.8.255", "scaler": 3}]
    response = await client.post(CUSTOM, json=wanted)
    assert response.status == 200
    assert await response.json() == wanted
    assert await (await client.get(CUSTOM)).json() == wanted


@pytest.mark.parametrize("body", [
    {"obis": "1.7.0", "scaler": 1},
    [{"obis": "1.7", "scaler": 1}],
    [{"obis": "255.7.0", "scaler": 1}],
    [{"obis": "1.255.0", "scaler": 1}],
    [{"obis": "1.7.256", "scaler": 1}],
    [{"obis": "1.7.0", "scaler": 7}],
    [{"obis": "1.7.0", "scaler": -7}],
    [{"obis": "1.7.0", "scaler": "1"}],
    [{"obis": "1.7.0", "scaler": 1.5}],
    [{"obis": "1.7.0"}],
    [{"obis": "1.7.0", "scaler": 1}, {"obis": "1.7.0", "scaler": 2}],
])
async def test_invalid_custom_scalers_get_400_and_keep_the_list(client: TestClient,
                                                                body: object) -> None:  # type: ignore[type-arg]
    await client.post(CUSTOM, json=[{"obis": "1.8.0", "scaler": 2}])
    response = await client.post(CUSTOM, json=body)
    assert response.status == 400
    assert await (await client.get(CUSTOM)).json() == [{"obis": "1.8.0", "scaler": 2}]


async def test_scalers_current_and_objects_before_any_frame(client: TestClient) -> None:  # type: ignore[type-arg]
    assert await (await client.get("/api/v1/meter/scalers/current")).json() == []
    assert await (await client.get("/api/v1/report/objects")).json() == {"objects": []}


async def test_control_api_without_a_virtual_meter(client: TestClient) -> None:  # type: ignore[type-arg]
    body = await (await client.get("/emulator/v1/meter")).json()
    assert body["virtual_meter"] is None
    assert body["link"]["status"] == "NOT CONNECTED"
    refused = await client.post("/emulator/v1/meter", json={"silent": True})
    assert refused.status == 404


async def test_the_clock_can_be_set(client: TestClient, device: Device) -> None:  # type: ignore[type-arg]
    response = await client.post("/emulator/v1/clock",
                                 json={"time": "2025-06-01T12:00:00+02:00"})
    assert response.status == 200
    assert device.clock.time() == pytest.approx(1748772000.0, abs=1)
    bad = await client.post("/emulator/v1/clock", json={"time": "2025-06-01T12:00:00"})
    assert bad.status == 400
