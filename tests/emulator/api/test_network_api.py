"""Wi-Fi scan and WPS over HTTP, and /api/v1/system following the network settings."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from emulator.device.network import WPS_WINDOW
from tests.support import ManualClock, doc_json_blocks


async def test_scan_lists_the_documented_fields_the_same_every_time(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/wifi/scan")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    networks = await response.json()
    documented = doc_json_blocks("50-settings/wifi-scan.md")[0]
    assert all(list(entry) == list(documented[0]) for entry in networks)
    assert all(entry["wps"] in ("true", "false") for entry in networks)
    assert await (await client.get("/api/v1/wifi/scan")).json() == networks
    system = await (await client.get("/api/v1/system")).json()
    home = next(entry for entry in networks if entry["ssid"] == system["wifi"]["ssid"])
    assert (home["bssid"], home["channel"], home["rssi"]) == (
        system["wifi"]["bssid"], system["wifi"]["channel"], system["wifi"]["rssi"])


async def test_wps_opens_a_two_minute_window_seen_in_system(client: TestClient,  # type: ignore[type-arg]
                                                            clock: ManualClock) -> None:
    response = await client.post("/api/v1/wifi/wps")
    assert response.status == 204
    assert await response.read() == b""
    assert (await (await client.get("/api/v1/system")).json())["wifi"]["wps"] is True
    clock.advance(WPS_WINDOW)
    assert (await (await client.get("/api/v1/system")).json())["wifi"]["wps"] is False
    assert (await client.get("/api/v1/wifi/wps")).status == 405


async def test_system_follows_the_wifi_settings(client: TestClient) -> None:  # type: ignore[type-arg]
    scan = await (await client.get("/api/v1/wifi/scan")).json()
    target = next(n for n in scan if n["ssid"] != "HomeNet" and n["auth_mode"] != "open")
    await client.post("/api/v1/wifi/sta/settings", json={
        "enable": True, "name": target["ssid"], "password": "a-good-passphrase",
        "static_ip": True, "ip": "192.168.7.201", "netmask": "255.255.255.0",
        "gateway": "192.168.7.1", "dns": "1.1.1.1"})
    wifi = (await (await client.get("/api/v1/system")).json())["wifi"]
    assert (wifi["ssid"], wifi["bssid"], wifi["status"], wifi["ip"], wifi["dns"]) == (
        target["ssid"], target["bssid"], "OK", "192.168.7.201", "1.1.1.1")
    variables = {k: v for item in await (await client.get("/api/v1/variables")).json()
                 for k, v in item.items()}
    assert variables["wifi.sta.ssid"] == target["ssid"]
    assert variables["wifi.sta.ip"] == "192.168.7.201"
    await client.delete("/api/v1/wifi/sta/settings")
    variables = {k: v for item in await (await client.get("/api/v1/variables")).json()
                 for k, v in item.items()}
    assert (variables["wifi.mode"], variables["wifi.sta.status"]) == ("off", "disabled")
