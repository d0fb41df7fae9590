"""The device's HTTP API (aiohttp): one module per section of the manual."""

from __future__ import annotations

from aiohttp import web

from emulator.api import control, live, meter, report, system, variables, webui
from emulator.api.common import DEVICE, device_errors
from emulator.device.core import Device

#: Request bodies larger than this are refused (the manual: JSON up to 8 kB).
MAX_BODY = 8 * 1024


def create_app(device: Device) -> web.Application:
    app = web.Application(middlewares=[device_errors], client_max_size=MAX_BODY)
    app[DEVICE] = device
    for section in (system, report, live, variables, meter, control, webui):
        section.setup(app)
    return app
