"""/emulator/v1/...: the emulator's own control API (not the device's): the meter link's
diagnostics, steering of a virtual meter, and the device's clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from aiohttp import web

from emulator.api.common import DEVICE, error_response, json_body, json_response
from emulator.api.control_access import steering
from emulator.device.errors import SettingsError

#: The clock a device can be set to (its RTC and NTP): anything else is refused, unchanged.
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


async def get_meter(request: web.Request) -> web.Response:
    device = request.app[DEVICE]
    control = device.ports.meter_control
    return json_response({"link": device.diagnostics(),
                          "virtual_meter": control.state() if control else None})


async def post_meter(request: web.Request) -> web.Response:
    device = request.app[DEVICE]
    control = device.ports.meter_control
    if control is None:
        return error_response(404, "the meter is not a virtual one: nothing to steer")
    body = await json_body(request)
    if not isinstance(body, dict):
        raise SettingsError("body: expected a JSON object")
    return json_response(control.apply(body))


async def get_clock(request: web.Request) -> web.Response:
    clock = request.app[DEVICE].clock
    return json_response({"time": datetime.fromtimestamp(clock.time()).astimezone()
                          .isoformat(timespec="milliseconds"), "speed": clock.speed})


async def post_clock(request: web.Request) -> web.Response:
    """{"time": ISO 8601 with zone}: set the device's wall clock (as NTP would)."""
    body = await json_body(request)
    text = body.get("time") if isinstance(body, dict) else None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError as exc:
        raise SettingsError(f"time: expected ISO 8601, got {text!r}") from exc
    if moment.tzinfo is None:
        raise SettingsError("time: give the time zone, e.g. 2025-01-22T11:54:00+01:00")
    if not EARLIEST <= moment <= LATEST:
        raise SettingsError(f"time: must lie between {EARLIEST.date()} and {LATEST.date()}, "
                            f"as a device's clock does")
    request.app[DEVICE].clock.set_time(moment.timestamp())
    return await get_clock(request)


def setup(app: web.Application) -> None:
    app.router.add_get("/emulator/v1/meter", get_meter)
    app.router.add_post("/emulator/v1/meter", steering(post_meter))
    app.router.add_get("/emulator/v1/clock", get_clock)
    app.router.add_post("/emulator/v1/clock", steering(post_clock))
