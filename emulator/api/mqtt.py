"""The MQTT client's endpoints: /api/v1/mqtt/settings (manual section 4; on every licence,
publishing itself needs Plus) and POST /api/v1/template/test (newer template page: render a
template against the current report; Plus)."""

from __future__ import annotations

import json

from aiohttp import web

from emulator.api.common import API_HEADERS, DEVICE, error_response
from emulator.api.license import LICENSE_REQUIRED
from emulator.api.settings import add_settings_endpoint
from emulator.device.faces.variables import variables
from emulator.device.settings import sections
from emulator.device.system_info import system_variables
from emulator.device.template import render

#: The same limit as the setting's template.
MAX_TEMPLATE = 1023


def _template_of(raw: bytes) -> str:
    """A JSON object's `template` string, else the whole body as the template's text."""
    text = raw.decode("utf-8")
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if isinstance(body, dict) and isinstance(body.get("template"), str):
        return str(body["template"])
    return text


async def template_test(request: web.Request) -> web.StreamResponse:
    device = request.app[DEVICE]
    if not device.licensed:
        return error_response(404, LICENSE_REQUIRED)
    try:
        template = _template_of(await request.read())
    except UnicodeDecodeError:
        return error_response(400, "template: not UTF-8")
    if len(template) > MAX_TEMPLATE:
        return error_response(400, f"template: length {len(template)} out of range "
                                   f"0..{MAX_TEMPLATE}")
    values = variables(device.latest, system_variables(device), device.zone)
    return web.Response(text=render(template, values), content_type="text/plain",
                        headers=API_HEADERS)


def setup(app: web.Application) -> None:
    add_settings_endpoint(app, "/api/v1/mqtt/settings", sections.MQTT)
    app.router.add_post("/api/v1/template/test", template_test)
