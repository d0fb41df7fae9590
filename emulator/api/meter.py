"""/api/v1/meter/...: the line to the meter (settings), and the scalers (manual 6.3-6.5)."""

from __future__ import annotations

from aiohttp import web

from emulator.api.common import DEVICE, json_response
from emulator.api.settings import add_settings_endpoint
from emulator.device.objects import current_scalers
from emulator.device.settings import sections


async def get_current_scalers(request: web.Request) -> web.Response:
    return json_response(current_scalers(request.app[DEVICE].meter.reading))


def setup(app: web.Application) -> None:
    add_settings_endpoint(app, "/api/v1/meter/settings", sections.METER)
    app.router.add_get("/api/v1/meter/scalers/current", get_current_scalers)
    add_settings_endpoint(app, "/api/v1/meter/scalers/custom", sections.SCALERS, put=False)
