"""GET /api/v1/report: the latest report, with the meter and system objects.

The report object is the same for every request until the next frame arrives, so its JSON
is encoded once per report; the system object (its clock, to the second, and the whole
seconds since boot) is encoded once per second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from emulator.api.common import DEVICE, dumps, json_bytes_response, json_response
from emulator.device.core import Device
from emulator.device.faces.report_json import (
    empty_report_object,
    meter_object,
    report_object,
    system_object,
)
from emulator.device.objects import report_objects


@dataclass(slots=True)
class _Cache:
    # What the report part was made from, compared by identity (each is replaced on change).
    latest: object = None
    status: object = None
    interface: object = None
    reading: object = None
    prefix: bytes = b""
    # What the system part was made from, compared by value.
    second: int | None = None
    uptime: int | None = None
    zone: object = None
    device_id: str = ""
    boot_id: object = None
    system: bytes = b""
    body: bytes = b""  # prefix + system, made again when either changes


CACHE: Final = web.AppKey("report_cache", _Cache)


def report_body(device: Device, cache: _Cache) -> bytes:
    latest = device.latest
    link = device.meter
    if (latest is None or latest is not cache.latest or link.status is not cache.status
            or link.interface is not cache.interface or link.reading is not cache.reading):
        if latest is None:
            report = empty_report_object(device.clock.time(), device.zone,
                                         device.settings.meter.conv_factor)
        else:
            report = report_object(latest, device.zone)
        meter = meter_object(link.status.value, link.interface, link.reading)
        cache.prefix = ('{"report":' + dumps(report) + ',"meter":' + dumps(meter)
                        + ',"system":').encode()
        cache.latest, cache.status = latest, link.status
        cache.interface, cache.reading = link.interface, link.reading
        cache.body = b""
    # The system object's times are formatted to the second (a zone changes its offset only
    # at a whole second), so it is the same for every request within a second.
    now = device.clock.time()
    second = math.floor(now)
    uptime = int(device.uptime())
    zone, device_id, boot_id = device.zone, device.identity.device_id, device.boot.boot_id
    if (second != cache.second or uptime != cache.uptime or zone != cache.zone
            or device_id != cache.device_id or boot_id != cache.boot_id):
        system = system_object(device_id, now, zone, boot_id, uptime)
        cache.system = dumps(system).encode() + b"}"
        cache.second, cache.uptime, cache.zone = second, uptime, zone
        cache.device_id, cache.boot_id = device_id, boot_id
        cache.body = b""
    if not cache.body:
        cache.body = cache.prefix + cache.system
    return cache.body


async def get_objects(request: web.Request) -> web.Response:
    device = request.app[DEVICE]
    return json_response(report_objects(device.latest.reading if device.latest else None))


def setup(app: web.Application) -> None:
    device = app[DEVICE]
    cache = app[CACHE] = _Cache()

    async def get_report(request: web.Request) -> web.Response:
        return json_bytes_response(report_body(device, cache))

    app.router.add_get("/api/v1/report", get_report)
    app.router.add_get("/api/v1/report/objects", get_objects)
