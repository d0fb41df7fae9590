"""The device's HTTP API (aiohttp): one module per section of the manual."""

from __future__ import annotations

from aiohttp import web

from emulator.api import (
    actions,
    control,
    control_device,
    control_faults,
    control_scenario,
    live,
    maintenance,
    meter,
    middleware,
    modbus,
    mqtt,
    network,
    openapi,
    report,
    sdcard,
    settings,
    system,
    ui_log,
    ui_stream,
    variables,
    webui,
)
from emulator.api.auth import AUTHENTICATOR, Authenticator
from emulator.api.common import DEVICE, LOG
from emulator.api.control_access import CONTROL, ControlAccess
from emulator.device.core import Device
from emulator.runtime.logs import device_log

#: Request bodies larger than this are refused (the manual: JSON up to 8 kB).
MAX_BODY = 8 * 1024


def create_app(device: Device, auth: str | Authenticator = "both",
               access: ControlAccess | None = None) -> web.Application:
    """The application; `auth` is the --auth mode (digest, basic, both) or an
    Authenticator (tests pass one with their own clock); `access` who may steer the
    emulator (default: anyone who passes the device's protection)."""
    authenticator = auth if isinstance(auth, Authenticator) else Authenticator(device, auth)
    app = web.Application(client_max_size=MAX_BODY)
    app[DEVICE] = device
    app[CONTROL] = access or ControlAccess()
    app[LOG] = device_log("emulator.api", device.identity.device_id)
    app[AUTHENTICATOR] = authenticator
    middleware.install(app)
    for section in (system, report, live, variables, meter, settings, network,
                    maintenance, control, control_faults, control_device,
                    control_scenario, modbus, mqtt, sdcard, actions, ui_stream,
                    ui_log, webui, openapi):
        section.setup(app)
    # One middleware for the whole chain (emulator.api.middleware), made once the
    # sections have set up what it reads (the fault table).
    app.middlewares.append(middleware.device_middleware(app, authenticator))
    return app
