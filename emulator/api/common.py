"""What every API response shares: JSON encoding, the device's headers, device-style errors."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

from aiohttp import web
from multidict import CIMultiDict

from emulator.api.body import BodyError, UnsupportedMediaType, read_json
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
#: Those of a JSON answer, built once: aiohttp copies a CIMultiDict at C speed, where a
#: dict and a content_type argument cost it a microsecond more per response.
JSON_HEADERS: Final = CIMultiDict({**API_HEADERS, "Content-Type": "application/json"})

#: Bodies of the errors the device's HTTP server (ESP-IDF httpd) sends by itself.
ERROR_BODIES: Final = {
    400: "Bad request syntax",
    401: "No permission -- see authorization schemes",
    404: "This URI does not exist",
    405: "Specified method is invalid for this resource",
    403: "Forbidden",
    408: "Request timeout",
    413: "Content too large",
    415: "Unsupported media type",
    500: "Server has encountered an unexpected error",
    503: "Service unavailable",
}


def _plain(value: Any) -> Any:
    """What the JSON encoder makes of the device's own types it does not know: any mapping
    (a read-only view of a dict) an object, any other collection a list, bytes hex text,
    anything else its text. Our own data never fails to encode."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset | tuple) or (
            isinstance(value, Iterable) and not isinstance(value, str)):
        return list(value)
    return str(value)


def dumps(data: Any) -> str:
    """JSON text of the device's data; never raises for any value of ours: unknown types
    are made plain (_plain), numbers that JSON cannot carry (NaN, infinities) become null,
    text that is not valid Unicode is escaped."""
    try:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_plain,
                          allow_nan=False)
    except ValueError:
        return json.dumps(_finite(data), separators=(",", ":"), ensure_ascii=False,
                          default=_plain)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def encode(text: str) -> bytes:
    """UTF-8 of JSON text; a lone surrogate (invalid in UTF-8) is written as its JSON
    escape, so the body stays valid JSON."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(json.loads(text), separators=(",", ":")).encode("ascii")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=encode(dumps(data)), status=status, headers=JSON_HEADERS)


def json_bytes_response(body: bytes) -> web.Response:
    return web.Response(body=body, headers=JSON_HEADERS)


def error_response(status: int, message: str | None = None) -> web.Response:
    """An error as the device's HTTP server sends it (ESP-IDF: text/html with a short
    sentence); `message` overrides the default sentence."""
    return web.Response(text=message or ERROR_BODIES.get(status, ""), status=status,
                        content_type="text/html", headers=API_HEADERS)


def no_content() -> web.Response:
    return web.Response(status=204, headers=API_HEADERS)


async def json_body(request: web.Request) -> Any:
    """The request's JSON, through the one body reader (emulator.api.body.read_json);
    its BodyError is answered 400 (415 for a foreign Content-Type) by device_error."""
    return await read_json(request)


#: What `device_error` answers: aiohttp's own errors and refused bodies and settings.
DEVICE_ERRORS: Final = (BodyError, SettingsError, web.HTTPException)


def device_error(exc: BaseException) -> web.Response | None:
    """The device's answer to aiohttp's own errors (unknown path, wrong method, body too
    large) and to refused bodies and settings, or None for an exception it does not answer
    (raise it on); nothing is changed when a request is refused. The device's middleware
    (emulator.api.middleware) calls it for DEVICE_ERRORS a request raises."""
    if isinstance(exc, UnsupportedMediaType):
        return error_response(415, str(exc))
    if isinstance(exc, SettingsError | BodyError):
        return error_response(400, str(exc))
    if isinstance(exc, web.HTTPException) and exc.status in (404, 405, 413):
        return error_response(exc.status)
    return None
