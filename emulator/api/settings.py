"""Settings endpoints (manual 6.1): GET reads, POST replaces (absent fields back to factory
values), PUT merges, DELETE (where documented) resets. Answers are the settings as GET
shows them (secrets hidden); a refused request changes nothing and gets 400 with the
reason. /api/v1/settings is registered here; other sections use `add_settings_endpoint`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from emulator.api.body import BodyError, read_json
from emulator.api.common import DEVICE, error_response, json_response, no_content
from emulator.device.errors import SettingsError

_LOG = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _reader(section: str) -> Handler:
    async def get(request: web.Request) -> web.StreamResponse:
        return json_response(request.app[DEVICE].settings.public(section))
    return get


def _writer(section: str, method: str) -> Handler:
    async def write(request: web.Request) -> web.StreamResponse:
        settings = request.app[DEVICE].settings
        try:
            body = await read_json(request)
            public = settings.post(section, body) if method == "POST" else \
                settings.put(section, body)
        except (BodyError, SettingsError) as exc:
            _LOG.info("%s %s refused: %s", method, request.path, exc)
            return error_response(400, str(exc))
        except OSError as exc:
            _LOG.error("cannot store the %s settings: %s", section, exc)
            return error_response(500)
        _LOG.info("%s %s: settings stored", method, request.path)
        return json_response(public)
    return write


def _deleter(section: str) -> Handler:
    async def delete(request: web.Request) -> web.StreamResponse:
        try:
            request.app[DEVICE].settings.reset(section)
        except OSError as exc:
            _LOG.error("cannot store the %s settings: %s", section, exc)
            return error_response(500)
        _LOG.info("%s settings deleted", section)
        return no_content()
    return delete


def add_settings_endpoint(app: web.Application, path: str, section: str, *,
                          delete: bool = False) -> None:
    """GET, POST and PUT (and DELETE when documented) of one settings section at `path`."""
    app.router.add_get(path, _reader(section))
    app.router.add_post(path, _writer(section, "POST"))
    app.router.add_put(path, _writer(section, "PUT"))
    if delete:
        app.router.add_delete(path, _deleter(section))


def setup(app: web.Application) -> None:
    add_settings_endpoint(app, "/api/v1/settings", "settings")
