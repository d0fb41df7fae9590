"""/emulator/v1/...: the emulator's own control API (not the device's): the meter link's
diagnostics, steering of a virtual meter, the device's clock, and the state read-back.
The other control routes are in control_faults (HTTP faults), control_device (device
events, services, licence, protection) and control_scenario (scenarios); what each POST
does is an action of `controls`, shared with scenarios."""

from __future__ import annotations

from aiohttp import web

from emulator.api import control_timers, controls
from emulator.api.common import DEVICE, error_response, json_body, json_response
from emulator.api.control_access import Handler, steering
from emulator.api.controls import NothingToSteer, clock_state, services_state
from emulator.api.faults import FAULTS_TABLE, FaultTable

# Kept here for those who import them from the route module.
EARLIEST, LATEST = controls.EARLIEST, controls.LATEST


def action_route(name: str, status: int = 200) -> Handler:
    """A POST route running the action `name` on the request's JSON body."""
    action = controls.ACTIONS[name]

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        try:
            return json_response(await action.run(request.app, body), status)
        except NothingToSteer as exc:
            return error_response(404, str(exc))

    handler.__name__ = f"post_{name.replace('.', '_')}"
    return steering(handler)


def meter_state(request: web.Request) -> dict[str, object]:
    device = request.app[DEVICE]
    control = device.ports.meter_control
    return {"link": device.diagnostics(),
            "virtual_meter": control.state() if control else None}


async def get_meter(request: web.Request) -> web.Response:
    return json_response(meter_state(request))


async def get_clock(request: web.Request) -> web.Response:
    return json_response(clock_state(request.app[DEVICE]))


async def get_state(request: web.Request) -> web.Response:
    """Everything a test may want to check in one read."""
    from emulator.api.control_scenario import scenario_state  # noqa: PLC0415 - a cycle

    device = request.app[DEVICE]
    return json_response({
        "device": {"id": device.identity.device_id, "boot_id": device.boot.boot_id,
                   "uptime_s": round(device.uptime(), 3), "license": device.license_type,
                   "protection": device.settings.system.protection},
        "meter": meter_state(request),
        "clock": clock_state(device),
        "faults": [fault.to_json() for fault in
                   request.app[FAULTS_TABLE].active(device.clock.time())],
        "scenario": scenario_state(request.app),
        "services": services_state(device),
    })


def setup(app: web.Application) -> None:
    control_timers.install(app, app[DEVICE].clock)
    controls.install(app)
    app[FAULTS_TABLE] = FaultTable()
    app.router.add_get("/emulator/v1/meter", get_meter)
    app.router.add_post("/emulator/v1/meter", action_route("meter"))
    app.router.add_get("/emulator/v1/clock", get_clock)
    app.router.add_post("/emulator/v1/clock", action_route("clock"))
    app.router.add_get("/emulator/v1/state", get_state)
