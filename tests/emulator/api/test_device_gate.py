"""The device's one middleware (emulator.api.middleware): its steps keep their order (fault,
authentication, same origin, licence, then the handler, with device errors and the last
resort around them), and the state it reads as plain attributes on each request (the fault
table's `armed`, the authenticator's `required` password) follows every change at once."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.api.auth import AUTHENTICATOR
from emulator.api.faults import FAULTS_TABLE, FaultTable, parse_fault
from emulator.api.middleware import FAULTS
from emulator.device.core import Device
from emulator.device.settings import sections
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device

PASSWORD = "s3cret-Pa55"
CREDENTIALS = {"Authorization": "Basic " + base64.b64encode(f":{PASSWORD}".encode()).decode()}
FOREIGN = {"Origin": "http://elsewhere.example", "Content-Type": "application/json"}


async def status(client: TestClient, method: str, path: str,  # type: ignore[type-arg]
                 headers: dict[str, str] | None = None, body: bytes = b"{}") -> int:
    response = await client.request(method, path, headers=headers or {},
                                    data=body if method != "GET" else None)
    response.release()
    return response.status


def protection(on: bool, password: str = PASSWORD) -> dict[str, Any]:
    return {"system": {"protection": on, "password": password}}


async def test_protection_follows_every_way_the_settings_change(
        client: TestClient, device: Device) -> None:  # type: ignore[type-arg]
    assert await status(client, "GET", "/api/v1/system") == 200
    # Through the API (PUT), and each of the core's own writes: the next request knows.
    assert await status(client, "PUT", "/api/v1/settings",
                        body=b'{"system": {"protection": true, "password": "s3cret-Pa55"}}',
                        headers={"Content-Type": "application/json"}) == 200
    assert await status(client, "GET", "/api/v1/system") == 401
    assert await status(client, "GET", "/api/v1/system", CREDENTIALS) == 200
    await device.settings.aput(sections.SYSTEM, protection(True, "another-one"))
    assert await status(client, "GET", "/api/v1/system", CREDENTIALS) == 401
    await device.settings.areset(sections.SYSTEM)
    assert await status(client, "GET", "/api/v1/system") == 200
    await device.settings.aput(sections.SYSTEM, protection(True))
    assert await status(client, "GET", "/api/v1/system") == 401
    await device.settings.aput(sections.SYSTEM, protection(False))
    assert await status(client, "GET", "/api/v1/system") == 200
    await device.settings.aput(sections.SYSTEM, protection(True, ""))  # no password: open
    assert await status(client, "GET", "/api/v1/system") == 200
    await device.settings.apost(sections.SYSTEM, {
        **device.settings.get(sections.SYSTEM),
        "system": {**device.settings.get(sections.SYSTEM)["system"], "password": PASSWORD}})
    assert await status(client, "GET", "/api/v1/system") == 401
    await device.settings.afactory_reset()
    assert await status(client, "GET", "/api/v1/system") == 200


async def test_an_open_device_does_not_read_its_settings_per_request(
        aiohttp_client: ClientFactory, device: Device) -> None:
    app = create_app(device)
    client = await aiohttp_client(app)
    calls = []
    authenticator = app[AUTHENTICATOR]
    original = authenticator.password

    def counted() -> str | None:
        calls.append(1)
        return original()

    authenticator.password = counted  # type: ignore[method-assign]
    for _ in range(3):
        assert await status(client, "GET", "/api/v1/system") == 200
    assert calls == []
    await device.settings.aput(sections.SYSTEM, protection(True))  # a change: read once
    assert calls == [1]
    assert await status(client, "GET", "/api/v1/system") == 401


def test_the_fault_table_is_armed_exactly_while_a_fault_is_in_force() -> None:
    table = FaultTable()
    assert not table.armed
    table.add(parse_fault({"route": "/api/v1/*", "status": 503}, "f1"))
    assert table.armed
    assert table.remove("f1") and not table.armed
    assert not table.remove("f1") and not table.armed
    table.add(parse_fault({"route": "/api/v1/report", "status": 503}, "f2"))
    table.add(parse_fault({"route": "/api/v1/system", "status": 500}, "f3"))
    assert table.remove("f2") and table.armed  # another one is left
    table.clear()
    assert not table.armed
    lasting = parse_fault({"route": "/api/v1/report", "status": 503}, "f4")
    table.add(lasting.__class__(**{**lasting.to_json(), "expires": 100.0}))
    assert table.armed
    assert table.find("GET", "/api/v1/report", 99.0) is not None
    assert table.find("GET", "/api/v1/report", 100.0) is None  # its moment has passed
    assert not table.armed


async def test_a_fault_answers_before_authentication(
        aiohttp_client: ClientFactory, device: Device) -> None:
    app = create_app(device)
    client = await aiohttp_client(app)
    await device.settings.aput(sections.SYSTEM, protection(True))
    app[FAULTS_TABLE].add(parse_fault({"route": "/api/v1/report", "status": 503}, "f1"))
    assert await status(client, "GET", "/api/v1/report") == 503
    assert await status(client, "GET", "/api/v1/system") == 401  # not faulted: checked
    app[FAULTS_TABLE].clear()
    assert await status(client, "GET", "/api/v1/report") == 401
    assert await status(client, "GET", "/api/v1/report", CREDENTIALS) == 200


async def test_authentication_comes_before_the_origin_check_and_unknown_paths(
        client: TestClient, device: Device) -> None:  # type: ignore[type-arg]
    await device.settings.aput(sections.SYSTEM, protection(True))
    assert await status(client, "PUT", "/api/v1/settings", FOREIGN) == 401
    assert await status(client, "GET", "/no/such/path") == 401
    assert await status(client, "PUT", "/api/v1/settings", {**FOREIGN, **CREDENTIALS}) == 403
    assert await status(client, "GET", "/no/such/path", CREDENTIALS) == 404


@pytest.fixture
async def free(aiohttp_client: ClientFactory, tmp_path: Path,
               clock: ManualClock) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(build_device(tmp_path, clock, license_type="FREE")))


async def test_the_origin_check_comes_before_the_licence(free: TestClient) -> None:  # type: ignore[type-arg]
    assert await status(free, "POST", "/api/v1/actions/call", FOREIGN) == 403
    response = await free.post("/api/v1/actions/call", json={})
    assert (response.status, await response.text()) == (404, "License required")
    assert await status(free, "PUT", "/api/v1/report", FOREIGN) == 403
    assert await status(free, "PUT", "/api/v1/report") == 405  # a wrong method: aiohttp's


async def test_a_licence_taken_away_shows_in_the_next_request(
        client: TestClient, device: Device) -> None:  # type: ignore[type-arg]
    assert await status(client, "GET", "/api/v1/report") == 200
    device.license_type = "FREE"
    assert await status(client, "GET", "/api/v1/report") == 404
    device.license_type = "PLUS"
    assert await status(client, "GET", "/api/v1/report") == 200


async def test_a_bug_in_a_step_is_the_last_resorts_500(
        aiohttp_client: ClientFactory, device: Device) -> None:
    app = create_app(device)
    client = await aiohttp_client(app)
    await device.settings.aput(sections.SYSTEM, protection(True))

    def broken(request: web.Request, password: str) -> web.Response | None:
        raise RuntimeError("a bug in a check")

    app[AUTHENTICATOR].refusal = broken  # type: ignore[method-assign]
    response = await client.get("/api/v1/system")
    assert response.status == 500
    assert "unexpected error" in await response.text()
    assert app[FAULTS].counts == {"RuntimeError in GET /api/v1/system": 1}


async def test_the_web_uis_answers_are_revalidated_and_no_others(
        client: TestClient) -> None:  # type: ignore[type-arg]
    # Files (a missing one too: aiohttp's file response answers 404 itself), and an HTTP
    # error aiohttp's static handler raises (a directory: 403).
    for path, expected in [("/", 200), ("/static/app.css", 200), ("/static/js/", 403),
                           ("/static/nothing.css", 404)]:
        response = await client.get(path)
        assert (path, response.status) == (path, expected)
        assert response.headers["Cache-Control"] == "no-cache", path
    # The device's own answers keep their no-store, there too; other files get nothing.
    for path, expected in [("/nothing", 404), ("/api/v1/system", 200)]:
        response = await client.get(path)
        assert (response.status, response.headers["Cache-Control"]) == (expected, "no-store")
    assert "Cache-Control" not in (await client.get("/sd.html")).headers
