"""Issue 10: a web page elsewhere cannot change the device. JSON writes refuse the content
types a page can send without asking (text/plain, multipart) with 415, and any
state-changing request that a browser marks as coming from another site gets 403;
curl's `-d` (form-urlencoded, no Origin) keeps working as in the manual."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from emulator.device.core import Device
from tests.emulator.api.test_maintenance_api import upload_form

BODY = b'{"system": {"name": "Changed"}}'


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8",
                                          "multipart/form-data; boundary=x", "text/html"])
async def test_json_writes_refuse_content_types_a_page_can_send(
        client: TestClient, device: Device, content_type: str) -> None:  # type: ignore[type-arg]
    response = await client.put("/api/v1/settings", data=BODY,
                                headers={"Content-Type": content_type})
    assert response.status == 415
    assert "application/json" in await response.text()
    assert device.settings.system.name != "Changed"


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json"},
    {"Content-Type": "application/x-www-form-urlencoded"},  # curl -d, as in the manual
    {"Content-Type": "application/json", "Origin": "http://127.0.0.1:{port}"},
    {},
])
async def test_json_writes_that_are_accepted(client: TestClient, device: Device,  # type: ignore[type-arg]
                                             headers: dict[str, str]) -> None:
    port = client.server.port
    sent = {key: value.format(port=port) for key, value in headers.items()}
    response = await client.put("/api/v1/settings", data=BODY, headers=sent)
    assert response.status == 200, await response.text()
    assert device.settings.system.name == "Changed"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},
    {"Sec-Fetch-Site": "cross-site"},
])
async def test_requests_from_another_site_change_nothing(
        client: TestClient, device: Device, headers: dict[str, str]) -> None:  # type: ignore[type-arg]
    form = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    response = await client.put("/api/v1/settings", data=BODY, headers=form)
    assert response.status == 403
    assert device.settings.system.name != "Changed"
    assert (await client.post("/api/v1/reboot", headers=headers)).status == 403
    assert (await client.post("/load", data=upload_form(b"x"), headers=headers)).status == 403
    assert not device.reboot_pending
    assert device.firmware.status()["state"] == "idle"
    # Reading stays open to any page (as on the device).
    assert (await client.get("/api/v1/settings", headers=headers)).status == 200
