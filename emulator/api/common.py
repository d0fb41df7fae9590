"""What every API response shares: JSON encoding, the device's headers, device-style errors."""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import web

from emulator.device.core import Device
from emulator.device.errors import SettingsError
from emulator.runtime.logs import DeviceLog

DEVICE: Final = web.AppKey("device", Device)
#: The API's logger, its lines prefixed with the device id (a fleet serves many devices).
LOG: Final = web.AppKey("log", DeviceLog)


def log(request: web.Request) -> DeviceLog:
    return request.app[LOG]

#: Headers the device sends with API responses.
API_HEADERS: Final = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

#: Bodies of the errors the device's HTTP server (ESP-IDF httpd) sends by itself.
ERROR_BODIES: Final = {
    400: "Bad request syntax",
    401: "No permission -- see authorization schemes",
    404: "This URI does not exist",
    405: "Specified method is invalid for this resource",
    413: "Content too large",
    500: "Server has encountered an unexpected error",
    503: "Service unavailable",
}


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(data).encode(), status=status,
                        content_type="application/json", headers=API_HEADERS)


def json_bytes_response(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json", headers=API_HEADERS)


def error_response(status: int, message: str | None = None) -> web.Response:
    """An error as the device's HTTP server sends it (ESP-IDF: text/html with a short
    sentence); `message` overrides the default sentence."""
    return web.Response(text=message or ERROR_BODIES.get(status, ""), status=status,
                        content_type="text/html", headers=API_HEADERS)


def no_content() -> web.Response:
    return web.Response(status=204, headers=API_HEADERS)


async def json_body(request: web.Request) -> Any:
    """The request's JSON; SettingsError (-> 400) when it does not parse."""
    raw = await request.read()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SettingsError(f"invalid JSON: {exc}") from exc


@web.middleware
async def device_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn aiohttp's own errors (unknown path, wrong method, body too large) and refused
    settings into the device's answers; nothing is changed when a request is refused."""
    try:
        response: web.StreamResponse = await handler(request)
    except SettingsError as exc:
        return error_response(400, str(exc))
    except web.HTTPException as exc:
        if exc.status in (404, 405, 413):
            return error_response(exc.status)
        raise
    return response
