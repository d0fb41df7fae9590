"""Wi-Fi and Ethernet (manual 6.7-6.10): station settings, scan, WPS, Ethernet settings.
The radios are simulated by the device core (emulator.device.network)."""

from __future__ import annotations

from aiohttp import web

from emulator.api.common import DEVICE, json_response, log, no_content
from emulator.api.settings import add_settings_endpoint
from emulator.device.network import AccessPoint
from emulator.device.settings import sections


def scan_entry(point: AccessPoint) -> dict[str, object]:
    """One network as /api/v1/wifi/scan lists it (`wps` is a string there, as documented)."""
    return {
        "ssid": point.ssid, "bssid": point.bssid, "channel": point.channel, "ht": point.ht,
        "rssi": point.rssi, "signal": point.signal, "auth_mode": point.auth_mode,
        "pairwise_cipher": point.pairwise_cipher, "group_cipher": point.group_cipher,
        "phy": point.phy, "wps": "true" if point.wps else "false", "country": point.country,
    }


async def get_scan(request: web.Request) -> web.Response:
    network = request.app[DEVICE].network
    return json_response([scan_entry(point) for point in network.scan()])


async def post_wps(request: web.Request) -> web.Response:
    request.app[DEVICE].network.start_wps()
    log(request).info("WPS pairing window opened")
    return no_content()


def setup(app: web.Application) -> None:
    add_settings_endpoint(app, "/api/v1/wifi/sta/settings", sections.WIFI, delete=True)
    app.router.add_get("/api/v1/wifi/scan", get_scan)
    app.router.add_post("/api/v1/wifi/wps", post_wps)
    add_settings_endpoint(app, "/api/v1/eth/settings", sections.ETH)
