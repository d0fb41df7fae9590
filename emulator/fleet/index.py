"""The fleet's index (`--http HOST:PORT` of `whatwatt-emulator fleet`).

- `GET /fleet`: a JSON list of every device: {id, url, profile, status, index,
  global_index}; `status` is `starting`, `serving`, `stopped` or `failed: <why>`.
- `GET /ready`: 200 once every device has started (or failed to), 503 before (a
  Kubernetes readiness probe).
- `GET /fleet/<id>`: one of them (404 for an id the fleet does not have).
- `/fleet/<id>/<path>`: any method, passed through to the device's own `/<path>` (its
  `/emulator/v1/` control, its `/api/v1/`...), headers and body both ways, streamed (the
  live stream too). The device's own access rules apply: its control routes are on only
  on loopback or with the X-Emulator-Token it was given, which passes through.
"""

from __future__ import annotations

from typing import Final

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from emulator.fleet.runner import SERVING, Fleet

FLEET_KEY: Final = web.AppKey("fleet", Fleet)
#: Headers that belong to one hop (RFC 9110 7.6.1) and are not passed on.
HOP_BY_HOP: Final = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "transfer-encoding", "upgrade", "host", "content-length"})
#: The most a proxied request body may be (the device caps its own bodies lower).
MAX_BODY: Final = 1 << 20


def create_index(fleet: Fleet) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[FLEET_KEY] = fleet
    app.router.add_get("/fleet", listing)
    app.router.add_get("/ready", ready)
    app.router.add_get("/fleet/{id}", one)
    app.router.add_route("*", "/fleet/{id}/{tail:.*}", forward)
    return app


async def listing(request: web.Request) -> web.Response:
    return web.json_response(request.app[FLEET_KEY].listing())


async def ready(request: web.Request) -> web.Response:
    fleet = request.app[FLEET_KEY]
    if not fleet.started:
        raise web.HTTPServiceUnavailable(text="starting\n")
    return web.Response(text=f"{fleet.serving} of {len(fleet.members)} devices serving\n")


async def one(request: web.Request) -> web.Response:
    member = request.app[FLEET_KEY].by_id.get(request.match_info["id"].upper())
    if member is None:
        raise web.HTTPNotFound(text=f"no device {request.match_info['id']} in this fleet\n")
    return web.json_response(member.describe())


async def forward(request: web.Request) -> web.StreamResponse:
    fleet = request.app[FLEET_KEY]
    member = fleet.by_id.get(request.match_info["id"].upper())
    if member is None:
        raise web.HTTPNotFound(text=f"no device {request.match_info['id']} in this fleet\n")
    if member.status != SERVING or fleet.session is None:
        raise web.HTTPServiceUnavailable(
            text=f"device {member.plan.device_id} is {member.status}\n")
    target = f"{member.url}/{request.match_info['tail']}"
    headers = CIMultiDict((k, v) for k, v in request.headers.items()
                          if k.lower() not in HOP_BY_HOP)
    body = await request.read() if request.body_exists else None
    out: web.StreamResponse | None = None
    try:
        async with fleet.session.request(
                request.method, target, params=request.query, data=body, headers=headers,
                allow_redirects=False, auto_decompress=False,
                timeout=aiohttp.ClientTimeout(connect=5, sock_read=None)) as upstream:
            out = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    out.headers.add(key, value)
            await out.prepare(request)
            async for chunk in upstream.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            return out
    except aiohttp.ClientError as exc:
        if out is not None and out.prepared:
            return out  # the device went away mid-answer: the answer ends there
        raise web.HTTPBadGateway(
            text=f"device {member.plan.device_id} did not answer: {exc}\n") from exc
