"""The web UI's static files, served at / (the page) and /static/ (its CSS and modules).

The files carry `Cache-Control: no-cache`: a browser may keep them but asks again (a 304
when unchanged), so a page never runs the modules of an older emulator after an upgrade.
"""

from __future__ import annotations

from aiohttp import web

from webui import STATIC_DIR

STATIC_PREFIX = "/static/"


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def _revalidate(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == "/" or request.path.startswith(STATIC_PREFIX):
        response.headers.setdefault("Cache-Control", "no-cache")


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR)
    app.on_response_prepare.append(_revalidate)
