"""/api/v1/modbus: GET compact and detailed (dec, hex), POST replaces (400 and nothing
changed when invalid), DELETE restores the default; the map persists."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.device.core import Device
from emulator.device.settings.modbus_map import ModbusMapSection
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device, doc_json_blocks

DOCS = doc_json_blocks("35-modbus/index.md")
CUSTOM, _, DEFAULT, DETAILED = DOCS


@pytest.fixture
async def client(aiohttp_client: ClientFactory, device: Device) -> TestClient:  # type: ignore[type-arg]
    device.ports.modbus_map = ModbusMapSection(device.settings)  # as app.py does
    return await aiohttp_client(create_app(device))


async def get(client: TestClient, query: str = "") -> Any:  # type: ignore[type-arg]
    response = await client.get("/api/v1/modbus" + query)
    assert response.status == 200
    return await response.json()


async def test_get_shows_the_default_map_compact_and_detailed(client: TestClient) -> None:  # type: ignore[type-arg]
    assert await get(client) == [_compact(s) for s in DEFAULT]
    assert await get(client, "?address_format=dec") == DETAILED


def _compact(item: dict[str, Any]) -> dict[str, Any]:
    """The docs' default listing in the compact form: id, type, scaler per register."""
    return {"start_address": item["start_address"], "registers": [
        {"id": r["id"], "type": r["type"], "scaler": r["scaler"]} for r in item["registers"]]}


async def test_hex_addresses_have_the_detailed_shape(client: TestClient) -> None:  # type: ignore[type-arg]
    hexed = await get(client, "?address_format=hex")
    assert len(hexed) == len(DETAILED)
    for got, want in zip(hexed, DETAILED, strict=True):
        assert list(got) == list(want)
        assert int(got["start_address"], 16) == want["start_address"]
        assert int(got["end_address"], 16) == want["end_address"]
        assert got["size"] == want["size"]
        assert got["start_address"].startswith("0x")
        for reg, wanted in zip(got["registers"], want["registers"], strict=True):
            assert list(reg) == list(wanted)
            assert int(reg["address"], 16) == wanted["address"]
            assert {k: reg[k] for k in ("id", "type", "scaler", "size")} == {
                k: wanted[k] for k in ("id", "type", "scaler", "size")}
    assert (await client.get("/api/v1/modbus?address_format=oct")).status == 400


async def test_post_the_docs_example_then_delete(client: TestClient, tmp_path: Path,  # type: ignore[type-arg]
                                                 clock: ManualClock) -> None:
    response = await client.post("/api/v1/modbus", json=CUSTOM)
    assert response.status == 200
    assert await response.json() == CUSTOM  # the compact form is what was posted
    assert await get(client) == CUSTOM
    detailed = await get(client, "?address_format=dec")
    assert [s["end_address"] for s in detailed] == [22, 1006, 2010]
    assert [r["address"] for r in detailed[2]["registers"]] == [2000, 2003, 2006]
    assert detailed[0]["word_order"] == "lsw" and detailed[1]["word_order"] == "msw"
    # Persisted: a device built again from the same data dir has it.
    again = build_device(tmp_path, clock)
    assert ModbusMapSection(again.settings).compact() == CUSTOM
    response = await client.delete("/api/v1/modbus")
    assert response.status == 204
    assert await get(client, "?address_format=dec") == DETAILED


def _bad(change: str) -> Any:
    body = copy.deepcopy(CUSTOM)
    first = body[0]["registers"][0]
    if change == "unknown id":
        first["id"] = "99.99.99"
    elif change == "overlap":
        body[1]["start_address"] = 10
    elif change == "past 9998":
        body[2]["start_address"] = 9990  # sys.id, firmware, date-time: 10 registers
    elif change == "start out of range":
        body[1]["start_address"] = 9999
    elif change == "type":
        first["type"] = "uint"
    elif change == "scaler":
        first["scaler"] = 7
    elif change == "fractional scaler":
        first["scaler"] = 1.5
    elif change == "word order":
        body[0]["word_order"] = "middle"
    elif change == "not a list":
        return {"sets": body}
    elif change == "no registers":
        del body[1]["registers"]
    return body


@pytest.mark.parametrize("change", ["unknown id", "overlap", "past 9998",
                                    "start out of range", "type", "scaler",
                                    "fractional scaler", "word order", "not a list",
                                    "no registers"])
async def test_a_bad_definition_is_refused_and_changes_nothing(
        client: TestClient, change: str) -> None:  # type: ignore[type-arg]
    await client.post("/api/v1/modbus", json=CUSTOM)
    response = await client.post("/api/v1/modbus", json=_bad(change))
    assert response.status == 400
    assert (await response.text()).strip()
    assert await get(client) == CUSTOM


async def test_the_last_address_is_9998(client: TestClient) -> None:  # type: ignore[type-arg]
    body = [{"start_address": 9997, "registers": [{"id": "1.8.0", "type": "int"}]}]
    assert (await client.post("/api/v1/modbus", json=body)).status == 200
    body[0]["start_address"] = 9998
    assert (await client.post("/api/v1/modbus", json=body)).status == 400


async def test_without_a_modbus_server_there_is_no_endpoint(
        aiohttp_client: ClientFactory, device: Device) -> None:
    bare = await aiohttp_client(create_app(device))
    assert (await bare.get("/api/v1/modbus")).status == 404
