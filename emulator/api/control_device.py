"""/emulator/v1/device, /services, /license, /protection: what happens to the board (reboot,
power cut, brownout), its services switched off and on (a broker outage), and the licence
and password protection changed at run time."""

from __future__ import annotations

from aiohttp import web

from emulator.api.common import DEVICE, json_response
from emulator.api.control import action_route
from emulator.api.controls import services_state


async def get_license(request: web.Request) -> web.Response:
    return json_response({"license": request.app[DEVICE].license_type})


async def get_services(request: web.Request) -> web.Response:
    return json_response(services_state(request.app[DEVICE]))


async def get_protection(request: web.Request) -> web.Response:
    return json_response({"enabled": request.app[DEVICE].settings.system.protection})


def setup(app: web.Application) -> None:
    app.router.add_post("/emulator/v1/device", action_route("device", 202))
    app.router.add_get("/emulator/v1/services", get_services)
    app.router.add_post("/emulator/v1/services", action_route("service"))
    app.router.add_get("/emulator/v1/license", get_license)
    app.router.add_post("/emulator/v1/license", action_route("license"))
    app.router.add_get("/emulator/v1/protection", get_protection)
    app.router.add_post("/emulator/v1/protection", action_route("protection"))
