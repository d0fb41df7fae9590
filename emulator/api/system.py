"""GET /api/v1/system.

The object is built per request (it reads live state: services, settings, the radios, the
clock to the second), but its JSON is encoded again only when it differs from the last one
served: within a second it rarely does, and the encoding is most of the handler's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from emulator.api.common import DEVICE, dumps, encode, json_bytes_response
from emulator.device.system_info import Json, system_info


@dataclass
class _Cache:
    info: Json = field(default_factory=dict)
    body: bytes = b""


CACHE: Final = web.AppKey("system_cache", _Cache)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types throughout: the two encode to the same JSON (== alone
    holds 1 == 1.0 == True and -0.0 == 0.0, and ignores the order of keys)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (len(a) == len(b) and list(a) == list(b)
                and all(same(x, y) for x, y in zip(a.values(), b.values(), strict=True)))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and str(a) == str(b)
    return bool(a == b)


def system_body(info: Json, cache: _Cache) -> bytes:
    if not (info == cache.info and same(info, cache.info)):
        cache.body = encode(dumps(info))
        cache.info = info
    return cache.body


async def get_system(request: web.Request) -> web.Response:
    body = system_body(system_info(request.app[DEVICE]), request.app[CACHE])
    return json_bytes_response(body)


def setup(app: web.Application) -> None:
    app[CACHE] = _Cache()
    app.router.add_get("/api/v1/system", get_system)
