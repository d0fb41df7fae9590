"""/emulator/v1/faults: HTTP-side faults of the device API (see emulator.api.faults)."""

from __future__ import annotations

from aiohttp import web

from emulator.api.common import DEVICE, error_response, json_response, no_content
from emulator.api.control import action_route
from emulator.api.control_access import steering
from emulator.api.faults import FAULTS_TABLE


async def get_faults(request: web.Request) -> web.Response:
    now = request.app[DEVICE].clock.time()
    return json_response([fault.to_json() for fault in request.app[FAULTS_TABLE].active(now)])


async def delete_faults(request: web.Request) -> web.Response:
    request.app[FAULTS_TABLE].clear()
    return no_content()


async def delete_fault(request: web.Request) -> web.Response:
    if not request.app[FAULTS_TABLE].remove(request.match_info["fault_id"]):
        return error_response(404, "no such fault")
    return no_content()


def setup(app: web.Application) -> None:
    app.router.add_get("/emulator/v1/faults", get_faults)
    app.router.add_post("/emulator/v1/faults", action_route("faults", 201))
    app.router.add_delete("/emulator/v1/faults", steering(delete_faults))
    app.router.add_delete("/emulator/v1/faults/{fault_id}", steering(delete_fault))
