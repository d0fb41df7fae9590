"""Licence gating (the newer docs' REST licence requirements): without Plus or higher, the
licensed endpoints answer `404 License required`. The routes stay registered with their
own methods, so a wrong method still gets 405, as the firmware's route table does; every
other endpoint (system, live, settings, maintenance) works on FREE. The device's middleware
(emulator.api.middleware) asks only while the device is not licensed."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from emulator.api.common import error_response

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


def licence_refusal(request: web.Request) -> web.Response | None:
    """On a device without the licence: the answer to a request for a licensed endpoint,
    or None (any other endpoint, or a wrong method, which aiohttp answers 405)."""
    match = request.match_info
    resource = match.route.resource
    if (match.http_exception is None and resource is not None
            and resource.canonical in LICENSED_PATHS):
        return error_response(404, LICENSE_REQUIRED)
    return None
