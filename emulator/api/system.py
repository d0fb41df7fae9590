"""GET /api/v1/system.

The object reads live state from many owners (settings, service statuses, radios, the
meter link, the clock to the second). Its JSON is served again while those inputs are the
same ones (`system_inputs`: immutable values compared by identity, and the second), so a
second's requests cost one encoding; any change shows at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web

from emulator.api.common import DEVICE, dumps, encode, json_bytes_response
from emulator.device.core import Device
from emulator.device.system_info import system_info, system_inputs


@dataclass
class _Cache:
    inputs: tuple[object, ...] = ()
    body: bytes = b""


CACHE: Final = web.AppKey("system_cache", _Cache)


def system_body(device: Device, cache: _Cache) -> bytes:
    inputs = system_inputs(device)
    if inputs != cache.inputs:
        cache.body = encode(dumps(system_info(device)))
        cache.inputs = inputs
    return cache.body


def setup(app: web.Application) -> None:
    device = app[DEVICE]
    cache = app[CACHE] = _Cache()

    async def get_system(request: web.Request) -> web.Response:
        return json_bytes_response(system_body(device, cache))

    app.router.add_get("/api/v1/system", get_system)
