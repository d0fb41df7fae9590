"""Who may steer the emulator: on by default only on loopback, off or token-gated otherwise;
and a clock that a device could not have is refused without changing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.api import create_app
from emulator.api.control_access import TOKEN_HEADER, ControlAccess
from emulator.config import AppConfig
from tests.support import ManualClock, build_device


@pytest.mark.parametrize(("host", "mode", "token", "enabled"), [
    ("127.0.0.1", None, "", True),
    ("::1", None, "", True),
    ("localhost", None, "", True),
    ("0.0.0.0", None, "", False),
    ("192.0.2.10", None, "", False),
    ("0.0.0.0", True, "", True),
    ("127.0.0.1", False, "", False),
    ("0.0.0.0", None, "s3cret", True),
    ("0.0.0.0", False, "s3cret", False),
])
def test_control_is_on_by_default_only_on_loopback(host: str, mode: bool | None, token: str,
                                                    enabled: bool) -> None:
    config = AppConfig(http_host=host, control_api=mode, control_token=token)
    assert config.control_enabled is enabled


async def client_with(tmp_path: Path, aiohttp_client: Any, access: ControlAccess) -> Any:
    device = build_device(tmp_path, ManualClock())
    return await aiohttp_client(create_app(device, access=access))


async def test_off_refuses_steering_and_keeps_reading(tmp_path: Path,
                                                      aiohttp_client: Any) -> None:
    client = await client_with(tmp_path, aiohttp_client, ControlAccess(enabled=False))
    response = await client.post("/emulator/v1/meter", json={"silent": True})
    assert response.status == 403
    assert "control API is off" in await response.text()
    before = await (await client.get("/emulator/v1/clock")).json()
    response = await client.post("/emulator/v1/clock", json={"time": "2030-01-01T00:00:00Z"})
    assert response.status == 403
    assert (await (await client.get("/emulator/v1/clock")).json())["time"] == before["time"]
    assert (await client.get("/emulator/v1/meter")).status == 200  # diagnostics stay


async def test_a_token_is_required_when_set(tmp_path: Path, aiohttp_client: Any) -> None:
    client = await client_with(tmp_path, aiohttp_client, ControlAccess(True, "s3cret"))
    when = {"time": "2030-01-01T00:00:00+00:00"}
    assert (await client.post("/emulator/v1/clock", json=when)).status == 403
    wrong = await client.post("/emulator/v1/clock", json=when, headers={TOKEN_HEADER: "x"})
    assert wrong.status == 403
    right = await client.post("/emulator/v1/clock", json=when,
                              headers={TOKEN_HEADER: "s3cret"})
    assert right.status == 200


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+12:00",
                                  "9999-12-31T23:59:59-12:00", "1969-12-31T23:59:59+00:00",
                                  "9999-12-31T23:59:59+00:00", "2100-01-01T00:00:00+00:00"])
async def test_a_clock_no_device_could_have_is_400_and_changes_nothing(
        tmp_path: Path, aiohttp_client: Any, when: str) -> None:
    client = await client_with(tmp_path, aiohttp_client, ControlAccess())
    before = await (await client.get("/emulator/v1/clock")).json()
    response = await client.post("/emulator/v1/clock", json={"time": when})
    assert response.status == 400
    assert "must lie between" in await response.text()
    assert (await (await client.get("/emulator/v1/clock")).json())["time"] == before["time"]


async def test_every_control_route_that_changes_something_is_guarded(
        tmp_path: Path, aiohttp_client: Any) -> None:
    """Listed from the router, so a route added later is checked too."""
    device = build_device(tmp_path, ManualClock())
    app = create_app(device, access=ControlAccess(enabled=False))
    writes = sorted({(route.method, route.resource.canonical) for route in app.router.routes()
                     if route.resource is not None
                     and route.resource.canonical.startswith("/emulator/v1/")
                     and route.method not in ("GET", "HEAD")})
    assert ("POST", "/emulator/v1/faults") in writes and ("POST", "/emulator/v1/device") in \
        writes and ("DELETE", "/emulator/v1/scenario") in writes
    client = await aiohttp_client(app)
    for method, path in writes:
        response = await client.request(method, path.replace("{fault_id}", "f1"), json={})
        assert response.status == 403, (method, path)
    state = await (await client.get("/emulator/v1/state")).json()
    assert state["faults"] == [] and state["scenario"] is None
    assert state["device"]["license"] == "PLUS"
