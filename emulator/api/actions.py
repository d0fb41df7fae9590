"""/api/v1/actions (manual 6.6): the definition (GET, POST, DELETE), calls and their status.

The definition is a settings section (emulator/device/settings/actions.py): a POST that is
invalid, or larger than 8191 bytes, is refused with 400 and the stored one stays; GET is
404 while none is defined. Calls and status go to the actions runner through the
ActionsQueue port; a call answers 202 with `Location: /api/v1/actions/status?id=N[,M]`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from aiohttp import web

from emulator.api.common import DEVICE, error_response, json_response, no_content
from emulator.device.actions_model import MAX_DEFINITION_BYTES, ActionRefused, Refusal
from emulator.device.errors import SettingsError
from emulator.device.settings import sections
from emulator.device.settings.actions import KEY

_LOG = logging.getLogger(__name__)

_REFUSALS: Final = {Refusal.NOT_FOUND: 404, Refusal.DISABLED: 400, Refusal.BUSY: 409,
                    Refusal.FULL: 429, Refusal.UNAVAILABLE: 503}
_CALL_HEADERS: Final = {"X-Content-Type-Options": "nosniff",
                        "Cache-Control": "no-store, no-cache"}


class _TooLarge(Exception):
    pass


async def _body(request: web.Request) -> Any:
    """The body as JSON, read up to the definition's limit (not the app's 8 kB)."""
    if (request.content_length or 0) > MAX_DEFINITION_BYTES:
        raise _TooLarge
    raw = bytearray()
    while chunk := await request.content.read(4096):
        raw += chunk
        if len(raw) > MAX_DEFINITION_BYTES:
            raise _TooLarge
    try:
        return json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SettingsError(f"Invalid JSON: {exc}") from exc


async def get_definition(request: web.Request) -> web.Response:
    definition = request.app[DEVICE].settings.public(sections.ACTIONS)[KEY]
    if definition is None:
        return error_response(404)
    return json_response(definition)


async def post_definition(request: web.Request) -> web.Response:
    settings = request.app[DEVICE].settings
    try:
        body = await _body(request)
        public = await settings.apost(sections.ACTIONS, body)
    except _TooLarge:
        return error_response(400, f"Actions definition larger than {MAX_DEFINITION_BYTES} "
                                   "bytes")
    except SettingsError as exc:
        _LOG.info("POST %s refused: %s", request.path, exc)
        return error_response(400, str(exc))
    except OSError as exc:
        _LOG.error("cannot store the actions: %s", exc)
        return error_response(500)
    _LOG.info("actions defined: %d", len(public[KEY]["actions"]))
    return json_response(public[KEY])


async def delete_definition(request: web.Request) -> web.Response:
    try:
        await request.app[DEVICE].settings.areset(sections.ACTIONS)
    except OSError as exc:
        _LOG.error("cannot store the actions: %s", exc)
        return error_response(500)
    return no_content()


async def call(request: web.Request) -> web.Response:
    action_id = request.query.get("id")
    if not action_id:
        return error_response(400)
    queue = request.app[DEVICE].ports.actions
    if queue is None:
        return error_response(503)
    try:
        ids = queue.call(action_id)
    except ActionRefused as exc:
        return error_response(_REFUSALS[exc.reason], exc.reason.value)
    location = "/api/v1/actions/status?id=" + ",".join(map(str, ids))
    return web.Response(status=202, headers={**_CALL_HEADERS, "Location": location})


async def status(request: web.Request) -> web.Response:
    try:
        ids = [int(part) for part in request.query.get("id", "").split(",")]
    except ValueError:
        return error_response(400)
    if any(i < 0 for i in ids):
        return error_response(400)
    queue = request.app[DEVICE].ports.actions
    if queue is None:
        return error_response(503)
    return json_response([entry.to_json() for entry in queue.statuses(ids)])


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/actions", get_definition)
    app.router.add_post("/api/v1/actions", post_definition)
    app.router.add_delete("/api/v1/actions", delete_definition)
    app.router.add_post("/api/v1/actions/call", call)
    app.router.add_get("/api/v1/actions/status", status)
