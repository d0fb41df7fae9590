"""GET /emulator/v1/openapi.json: the OpenAPI 3.1 description of the device's API and the
emulator's control API, as this emulator serves them (docs/openapi.md says where and why it
differs from the official file).

The document is built from the device's own tables (settings fields, report layout) once
per application and served as bytes. `operations_of_router` and `operations_of_document`
let a test hold the two side by side: a route without a description, or a description
without a route, is a difference to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from emulator.api.common import DEVICE, dumps, json_bytes_response
from emulator.api.openapi_common import error_components
from emulator.api.openapi_control import control_paths, control_schemas
from emulator.api.openapi_device import device_paths
from emulator.api.openapi_schemas import live_schema, report_schema, system_info_schema
from emulator.device.core import Device

PATH: Final = "/emulator/v1/openapi.json"
METHODS: Final = ("get", "put", "post", "delete", "patch")
_TAGS: Final = ("General", "Measurements", "Streaming", "Settings", "Meter", "Wi-Fi",
                "Ethernet", "MQTT", "Modbus", "Actions", "Maintenance", "SD Card", "Web UI",
                "Emulator control")


def build_document(device: Device) -> dict[str, Any]:
    """The whole document for `device` (its settings schemas, its firmware version)."""
    identity = device.identity
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "whatwatt Go (emulated) local API",
            "version": identity.firmware,
            "description": (
                "The device API of a whatwatt Go as this emulator serves it (errors as the "
                "device's HTTP server sends them: text/html with a short sentence), and the "
                "emulator's own control API under /emulator/v1/. A method a path does not "
                "have is answered 405, an unknown path 404 (both text/html). Operations "
                "marked `x-emulator-not-fuzzed` change the device under test in ways a "
                "fuzzer must not (reboot, factory reset, password, traffic to other "
                "hosts)."),
        },
        "servers": [{"url": "/", "description": "the emulated device itself"}],
        "security": [{}, {"digestAuth": []}, {"basicAuth": []}],
        "tags": [{"name": name} for name in _TAGS],
        "paths": {**device_paths(device.settings.schemas), **control_paths()},
        "components": {
            "securitySchemes": {
                "digestAuth": {"type": "http", "scheme": "digest",
                               "description": "protection on, --auth digest or both "
                                              "(firmware 1.10 and later)"},
                "basicAuth": {"type": "http", "scheme": "basic",
                              "description": "protection on, --auth basic or both"},
            },
            "schemas": {"SystemInfo": system_info_schema(), "ReportEnvelope": report_schema(),
                        "LiveEvent": live_schema(), **control_schemas()},
            "responses": error_components(),
        },
    }


@dataclass
class _Served:
    body: bytes = b""  # built at the first request (the device's schemas are fixed by then)


_SERVED: Final = web.AppKey("openapi_document", _Served)


async def get_openapi(request: web.Request) -> web.Response:
    served = request.app[_SERVED]
    if not served.body:
        served.body = dumps(build_document(request.app[DEVICE])).encode()
    return json_bytes_response(served.body)


def setup(app: web.Application) -> None:
    app[_SERVED] = _Served()
    app.router.add_get(PATH, get_openapi)


_PARAM: Final = re.compile(r"\{[^}]*\}")


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path)


def operations_of_router(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path shape) of every route `app` serves; HEAD is left out (aiohttp adds
    it to every GET by itself), the static files are one `/static/{}`."""
    out: set[tuple[str, str]] = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD":
            continue
        if isinstance(resource, StaticResource):
            out.add(("GET", _shape(resource.canonical.rstrip("/") + "/{filename}")))
            continue
        out.add((route.method, _shape(resource.canonical)))
    return out


def operations_of_document(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), _shape(path)) for path, item in document["paths"].items()
            for method in METHODS if method in item}
