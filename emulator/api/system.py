"""GET /api/v1/system."""

from __future__ import annotations

from aiohttp import web

from emulator.api.common import DEVICE, json_response
from emulator.device.system_info import system_info


async def get_system(request: web.Request) -> web.Response:
    return json_response(system_info(request.app[DEVICE]))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/system", get_system)
