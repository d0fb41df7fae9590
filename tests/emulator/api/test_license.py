"""Licence gating: on FREE the licensed endpoints answer 404 `License required` with their
own methods; everything else keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.api.license import LICENSED_PATHS
from tests.conftest import spec_file
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device


@pytest.fixture
async def free(aiohttp_client: ClientFactory, tmp_path: Path,
               clock: ManualClock) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(build_device(tmp_path, clock, license_type="FREE")))


@pytest.mark.parametrize("path", ["/api/v1/report", "/api/v1/variables"])
async def test_licensed_endpoints_answer_license_required(free: TestClient, path: str) -> None:  # type: ignore[type-arg]
    response = await free.get(path)
    assert response.status == 404
    assert await response.text() == "License required"
    assert (await free.post(path)).status == 405  # the route keeps its own method


@pytest.mark.parametrize("path", ["/api/v1/system", "/api/v1/settings", "/api/v1/wifi/scan",
                                  "/api/v1/eth/settings", "/load", "/"])
async def test_the_rest_works_on_free(free: TestClient, path: str) -> None:  # type: ignore[type-arg]
    assert (await free.get(path)).status == 200


async def test_live_keeps_working_and_system_shows_free(free: TestClient) -> None:  # type: ignore[type-arg]
    live = await free.get("/api/v1/live")
    assert live.status == 200
    assert live.headers["Content-Type"] == "text/event-stream"
    live.close()
    system = await (await free.get("/api/v1/system")).json()
    assert system["device"]["license"] == {"type": "FREE"}
    assert system["clouds"]["mystrom"] == {"enabled": True, "status": "DISABLED"}


async def test_plus_serves_them(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/api/v1/report")).status == 200
    assert (await client.get("/api/v1/variables")).status == 200


def test_the_gated_list_is_the_documented_one() -> None:
    text = spec_file("whatwatt-docs", "docs", "_partials",
                     "license-plus-rest-endpoints.md").read_text("utf-8")
    documented = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `/")}
    assert documented == LICENSED_PATHS
