"""Licence gating (the newer docs' REST licence requirements): without Plus or higher, the
licensed endpoints answer `404 License required`. The routes stay registered with their
own methods, so a wrong method still gets 405, as the firmware's route table does; every
other endpoint (system, live, settings, maintenance) works on FREE."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from emulator.api.common import DEVICE, error_response

#: The newer docs' list of endpoints that need Plus or higher (routes not built yet are
#: listed so they are gated the day they are registered).
LICENSED_PATHS: Final = frozenset({
    "/api/v1/report",
    "/api/v1/report/objects",
    "/api/v1/variables",
    "/api/v1/actions",
    "/api/v1/actions/call",
    "/api/v1/actions/status",
})
LICENSE_REQUIRED: Final = "License required"


@web.middleware
async def license_gate(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.app[DEVICE].licensed:
        match = request.match_info
        resource = match.route.resource
        if (match.http_exception is None and resource is not None
                and resource.canonical in LICENSED_PATHS):
            return error_response(404, LICENSE_REQUIRED)
    response: web.StreamResponse = await handler(request)
    return response
