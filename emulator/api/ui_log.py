"""GET /emulator/v1/log?lines=N: the device's log tail, for the web UI's Emulator panel.

Answers `{"lines": [...]}`, oldest first: the last N lines (default 200, at most 1000) that
this device logged (a fleet's other devices are left out). Only what the process logs at
its --log-level reaches the tail. Read-only, so it is not a steering route.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from emulator.api.common import DEVICE, error_response, json_response
from emulator.runtime.log_tail import CAPACITY, ROUTER, LogTail

DEFAULT_LINES: Final = 200
TAIL: Final = web.AppKey("log_tail", LogTail)


async def get_log(request: web.Request) -> web.Response:
    raw = request.query.get("lines", str(DEFAULT_LINES))
    try:
        count = int(raw)
    except ValueError:
        return error_response(400, f"lines: expected a whole number, got {raw[:20]!r}")
    if not 1 <= count <= CAPACITY:
        return error_response(400, f"lines: {count} out of range 1..{CAPACITY}")
    return json_response({"lines": request.app[TAIL].lines(count)})


async def _open(app: web.Application) -> None:
    app[TAIL] = ROUTER.attach(app[DEVICE].identity.device_id)


async def _close(app: web.Application) -> None:
    tail = app.get(TAIL)
    if tail is not None:
        ROUTER.detach(tail)


def setup(app: web.Application) -> None:
    # Opened when the application starts, not when it is built: an application that is
    # built but never started (a router inspected, a start that failed) never runs its
    # cleanup, and its tail would stay open for ever.
    app.on_startup.append(_open)
    app.on_cleanup.append(_close)
    app.router.add_get("/emulator/v1/log", get_log)
