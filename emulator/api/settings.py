"""Settings endpoints (manual 6.1): GET reads, POST replaces (absent fields back to factory
values), PUT merges, DELETE (where documented) resets. Answers are the settings as GET
shows them (secrets hidden); a refused request changes nothing and gets 400 with the
reason. /api/v1/settings is registered here; other sections use `add_settings_endpoint`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from emulator.api.body import BodyError, UnsupportedMediaType, read_json
from emulator.api.common import DEVICE, error_response, json_response, log, no_content
from emulator.device.errors import SettingsError
from emulator.device.settings import sections
from emulator.device.settings.fields import ListSchema

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(request: web.Request, section: str, public: dict[str, object]) -> web.Response:
    """A section as its endpoint shows it: the object, or the list of a list section."""
    schema = request.app[DEVICE].settings.schemas[section]
    return json_response(schema.answer(public) if isinstance(schema, ListSchema) else public)


def _reader(section: str) -> Handler:
    async def get(request: web.Request) -> web.StreamResponse:
        return _answer(request, section, request.app[DEVICE].settings.public(section))
    return get


def _writer(section: str, method: str) -> Handler:
    async def write(request: web.Request) -> web.StreamResponse:
        settings = request.app[DEVICE].settings
        try:
            body = await read_json(request)
            public = await (settings.apost(section, body) if method == "POST"
                            else settings.aput(section, body))
        except (BodyError, SettingsError) as exc:
            log(request).info("%s %s refused: %s", method, request.path, exc)
            status = 415 if isinstance(exc, UnsupportedMediaType) else 400
            return error_response(status, str(exc))
        except OSError as exc:
            log(request).error("cannot store the %s settings: %s", section, exc)
            return error_response(500)
        log(request).info("%s %s: settings stored", method, request.path)
        return _answer(request, section, public)
    return write


def _deleter(section: str) -> Handler:
    async def delete(request: web.Request) -> web.StreamResponse:
        try:
            await request.app[DEVICE].settings.areset(section)
        except OSError as exc:
            log(request).error("cannot store the %s settings: %s", section, exc)
            return error_response(500)
        log(request).info("%s settings deleted", section)
        return no_content()
    return delete


def add_settings_endpoint(app: web.Application, path: str, section: str, *,
                          put: bool = True, delete: bool = False) -> None:
    """GET and POST (and PUT, and DELETE where documented) of one settings section at
    `path`: the one code path of every settings endpoint."""
    app.router.add_get(path, _reader(section))
    app.router.add_post(path, _writer(section, "POST"))
    if put:
        app.router.add_put(path, _writer(section, "PUT"))
    if delete:
        app.router.add_delete(path, _deleter(section))


def setup(app: web.Application) -> None:
    add_settings_endpoint(app, "/api/v1/settings", sections.SYSTEM)
