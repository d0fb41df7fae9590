"""/api/v1/meter/...: the line to the meter (settings), and the scalers (manual 6.3-6.5)."""

from __future__ import annotations

from aiohttp import web

from emulator.api.common import DEVICE, json_body, json_response
from emulator.device.objects import current_scalers

METER = "meter"
SCALERS = "meter_scalers"


async def get_settings(request: web.Request) -> web.Response:
    return json_response(request.app[DEVICE].settings.public(METER))


async def post_settings(request: web.Request) -> web.Response:
    body = await json_body(request)
    return json_response(request.app[DEVICE].settings.post(METER, body))


async def put_settings(request: web.Request) -> web.Response:
    body = await json_body(request)
    return json_response(request.app[DEVICE].settings.put(METER, body))


async def get_current_scalers(request: web.Request) -> web.Response:
    return json_response(current_scalers(request.app[DEVICE].meter.reading))


async def get_custom_scalers(request: web.Request) -> web.Response:
    return json_response(request.app[DEVICE].settings.public(SCALERS)["scalers"])


async def post_custom_scalers(request: web.Request) -> web.Response:
    body = await json_body(request)
    return json_response(request.app[DEVICE].settings.post(SCALERS, body)["scalers"])


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/meter/settings", get_settings)
    app.router.add_post("/api/v1/meter/settings", post_settings)
    app.router.add_put("/api/v1/meter/settings", put_settings)
    app.router.add_get("/api/v1/meter/scalers/current", get_current_scalers)
    app.router.add_get("/api/v1/meter/scalers/custom", get_custom_scalers)
    app.router.add_post("/api/v1/meter/scalers/custom", post_custom_scalers)
