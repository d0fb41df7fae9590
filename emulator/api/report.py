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


@dataclass
class _Cache:
    key: tuple[object, ...] = ()  # compared by identity: (report, status, interface, reading)
    prefix: bytes = b""
    system_key: tuple[object, ...] = ()  # compared by value
    system: bytes = b""
    body: bytes = b""  # prefix + system, made again when either changes

    def fresh(self, key: tuple[object, ...]) -> bool:
        mine = self.key
        return (len(mine) == 4 and key[0] is mine[0] and key[1] is mine[1]
                and key[2] is mine[2] and key[3] is mine[3])


CACHE: Final = web.AppKey("report_cache", _Cache)


def report_body(device: Device, cache: _Cache) -> bytes:
    latest = device.latest
    link = device.meter
    key = (latest, link.status, link.interface, link.reading)
    if latest is None or not cache.fresh(key):
        if latest is None:
            report = empty_report_object(device.clock.time(), device.zone,
                                         device.settings.meter.conv_factor)
        else:
            report = report_object(latest, device.zone)
        meter = meter_object(link.status.value, link.interface, link.reading)
        cache.prefix = ('{"report":' + dumps(report) + ',"meter":' + dumps(meter)
                        + ',"system":').encode()
        cache.key = key
        cache.body = b""
    # The system object's times are formatted to the second (a zone changes its offset only
    # at a whole second), so it is the same for every request within a second.
    now = device.clock.time()
    uptime = int(device.uptime())
    system_key = (math.floor(now), uptime, device.zone, device.identity.device_id,
                  device.boot.boot_id)
    if system_key != cache.system_key:
        system = system_object(device.identity.device_id, now, device.zone,
                               device.boot.boot_id, uptime)
        cache.system = dumps(system).encode() + b"}"
        cache.system_key = system_key
        cache.body = b""
    if not cache.body:
        cache.body = cache.prefix + cache.system
    return cache.body


async def get_report(request: web.Request) -> web.Response:
    return json_bytes_response(report_body(request.app[DEVICE], request.app[CACHE]))


async def get_objects(request: web.Request) -> web.Response:
    device = request.app[DEVICE]
    return json_response(report_objects(device.latest.reading if device.latest else None))


def setup(app: web.Application) -> None:
    app[CACHE] = _Cache()
    app.router.add_get("/api/v1/report", get_report)
    app.router.add_get("/api/v1/report/objects", get_objects)
