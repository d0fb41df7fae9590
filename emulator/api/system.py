"""GET /api/v1/system.

The object is built per request (it reads live state: services, settings, the radios, the
clock to the second), but its JSON is encoded again only when it differs from the last one
served (compared by its marshal bytes, several times cheaper than JSON): within a second it
rarely does, and the encoding was most of the handler's work.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from emulator.api.common import DEVICE, dumps, encode, json_bytes_response
from emulator.device.system_info import Json, system_info


@dataclass
class _Cache:
    key: bytes = b""
    body: bytes = b""


CACHE: Final = web.AppKey("system_cache", _Cache)


def fingerprint(info: Json) -> bytes | None:
    """The object's exact content: marshal writes keys in order and tells 1, 1.0 and True and
    0.0 and -0.0 apart, so equal fingerprints encode to the same JSON (== would not do:
    1 == 1.0 == True). None for a value marshal cannot write (never cached)."""
    try:
        return marshal.dumps(info)
    except ValueError:
        return None


def system_body(info: Json, cache: _Cache) -> bytes:
    key = fingerprint(info)
    if key is None or key != cache.key:
        cache.body = encode(dumps(info))
        cache.key = key or b""
    return cache.body


async def get_system(request: web.Request) -> web.Response:
    body = system_body(system_info(request.app[DEVICE]), request.app[CACHE])
    return json_bytes_response(body)


def setup(app: web.Application) -> None:
    app[CACHE] = _Cache()
    app.router.add_get("/api/v1/system", get_system)
