"""GET /api/v1/variables: the template variables as single-key objects of strings."""

from __future__ import annotations

from aiohttp import web

from emulator.api.common import DEVICE, json_response
from emulator.device.faces.variables import variables
from emulator.device.system_info import system_variables


async def get_variables(request: web.Request) -> web.Response:
    device = request.app[DEVICE]
    pairs = variables(device.latest, system_variables(device), device.zone)
    return json_response([{name: value} for name, value in pairs])


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/variables", get_variables)
