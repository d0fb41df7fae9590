"""Control routes on a device built without the composition root (no board, no virtual
meter): what has nothing to steer answers 404 and changes nothing; the rest works."""

from __future__ import annotations

from aiohttp.test_utils import TestClient


async def test_nothing_to_steer_is_404(client: TestClient) -> None:  # type: ignore[type-arg]
    boot = (await (await client.get("/emulator/v1/state")).json())["device"]["boot_id"]
    for path, body in (("/emulator/v1/device", {"event": "power_cut"}),
                       ("/emulator/v1/meter", {"silent": True}),
                       ("/emulator/v1/services", {"name": "mqtt", "running": False})):
        response = await client.post(path, json=body)
        assert response.status == 404, path
    state = await (await client.get("/emulator/v1/state")).json()
    assert state["device"]["boot_id"] == boot and state["meter"]["virtual_meter"] is None
    response = await client.post("/emulator/v1/device", json={"event": "reboot"})
    assert (response.status, await response.json()) == (202, {"event": "reboot",
                                                              "accepted": True})
    state = await (await client.get("/emulator/v1/state")).json()
    assert state["device"]["boot_id"] != boot  # the core restarts by itself
    response = await client.post("/emulator/v1/license", json={"license": "pro"})
    assert await response.json() == {"license": "PRO"}
