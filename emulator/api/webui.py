"""The web UI's static files, served at /."""

from __future__ import annotations

from aiohttp import web

from webui import STATIC_DIR


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
