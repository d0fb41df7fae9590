"""Every virtual meter's answers, over real HTTP, against the served description: the fuzz
run (tests/e2e) sees only the default meter; DLMS objects, M-Bus, KMP and the live event of
each protocol are checked here. And the project's snapshots of real answers, too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from emulator.api import create_app
from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.clock import ScaledClock
from emulator.device.core import Device
from emulator.meter.source import MeterSource
from emulator.runtime.backoff import Backoff
from meter_protocols.simulator.profiles import PROFILES
from tests.support import ENSOR_MOMENT, SNAPSHOTS, build_device, wait_status

READ_PATHS = ("/api/v1/system", "/api/v1/report", "/api/v1/report/objects",
              "/api/v1/variables", "/api/v1/meter/scalers/current", "/api/v1/settings",
              "/api/v1/meter/settings", "/api/v1/mqtt/settings", "/api/v1/modbus",
              "/emulator/v1/meter", "/emulator/v1/clock")
URN = "urn:whatwatt:openapi"


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        URN, Resource.from_contents(document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": URN + "#" + _pointer(document, schema)},
                                registry=registry)


def _pointer(document: dict[str, Any], schema: dict[str, Any]) -> str:
    """The JSON pointer of `schema` inside `document` (found by identity)."""
    def walk(node: Any, path: str) -> str | None:
        if node is schema:
            return path
        items = (node.items() if isinstance(node, dict)
                 else enumerate(node) if isinstance(node, list) else ())
        for key, child in items:
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            found = walk(child, f"{path}/{escaped}")
            if found is not None:
                return found
        return None

    found = walk(document, "")
    assert found is not None
    return found


def answer_schema(document: dict[str, Any], path: str, media: str = "application/json"
                  ) -> dict[str, Any]:
    schema: dict[str, Any] = (document["paths"][path]["get"]["responses"]["200"]["content"]
                              [media].get("x-event-data")
                              or document["paths"][path]["get"]["responses"]["200"]
                              ["content"][media]["schema"])
    return schema


def problems(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(document, schema).iter_errors(value)]


@pytest.fixture
async def running(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Device]:
    profile = request.param
    config = AppConfig(data_dir=tmp_path, meter=MeterSource.parse(f"virtual:{profile}"),
                       seed=1)
    app = EmulatorApp(config, ScaledClock(20.0, ENSOR_MOMENT), backoff=Backoff(0.1, 0.5),
                      http=False)
    await app.start()
    try:
        yield app.device
    finally:
        await app.stop()


@pytest.mark.parametrize("running", sorted(PROFILES), indirect=True)
async def test_every_profile_answers_as_described(running: Device,
                                                  aiohttp_client: Any) -> None:
    await wait_status(running, "OK", timeout=60)
    client: TestClient = await aiohttp_client(create_app(running))  # type: ignore[type-arg]
    document = await (await client.get("/emulator/v1/openapi.json")).json()
    for path in READ_PATHS:
        response = await client.get(path)
        assert response.status == 200, path
        found = problems(document, answer_schema(document, path), await response.json())
        assert not found, (path, found)
    async with client.get("/api/v1/live") as response:
        async for raw in response.content:
            if raw.startswith(b"data: "):
                event = json.loads(raw[6:])
                break
    found = problems(document, answer_schema(document, "/api/v1/live", "text/event-stream"),
                     event)
    assert not found, found


async def test_the_snapshots_of_real_answers_are_as_described(tmp_path: Path,
                                                              aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(build_device(tmp_path, ScaledClock())))
    document = await (await client.get("/emulator/v1/openapi.json")).json()
    # (variables.json holds the face's pairs, not the endpoint's body: not checked here)
    checked = {"api_report.json": "/api/v1/report", "api_system.json": "/api/v1/system"}
    for name, path in checked.items():
        value = json.loads((SNAPSHOTS / "ensor-ers" / name).read_text("utf-8"))
        found = problems(document, answer_schema(document, path), value)
        assert not found, (name, found)
    live = json.loads((SNAPSHOTS / "ensor-ers" / "live.json").read_text("utf-8"))
    assert not problems(document, answer_schema(document, "/api/v1/live",
                                                "text/event-stream"), live)


async def test_a_wrong_answer_is_caught(tmp_path: Path, aiohttp_client: Any) -> None:
    """The check can fail: a report with a text where a number belongs, and a field the
    device does not send, are both found."""
    client = await aiohttp_client(create_app(build_device(tmp_path, ScaledClock())))
    document = await (await client.get("/emulator/v1/openapi.json")).json()
    value = json.loads((SNAPSHOTS / "ensor-ers" / "api_report.json").read_text("utf-8"))
    value["report"]["voltage"]["l1"] = "230"
    value["meter"]["serial"] = "x"
    found = problems(document, answer_schema(document, "/api/v1/report"), value)
    assert len(found) == 2, found
