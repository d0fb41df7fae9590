"""The web UI's static files, served at / (the page) and /static/ (its CSS and modules).

The files carry `Cache-Control: no-cache`: a browser may keep them but asks again (a 304
when unchanged), so a page never runs the modules of an older emulator after an upgrade.
The device's middleware calls `revalidate` for the file responses and the HTTP errors it
lets through (the only answers on these paths without a Cache-Control of the device's own):
a response-prepare signal would cost every API request a coroutine more.
"""

from __future__ import annotations

from aiohttp import web

from webui import STATIC_DIR

STATIC_PREFIX = "/static/"


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def revalidate(request: web.Request, response: web.StreamResponse) -> None:
    """`Cache-Control: no-cache` on an answer for the page or its files, unless set."""
    path = request.path
    if path == "/" or path.startswith(STATIC_PREFIX):
        response.headers.setdefault("Cache-Control", "no-cache")


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR)
