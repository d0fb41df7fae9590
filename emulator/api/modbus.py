"""/api/v1/modbus: the Modbus register map (the newer docs' Modbus page).

GET returns the compact definition (what POST takes); `?address_format=dec|hex` the
detailed one with end addresses, sizes and register addresses. POST replaces the map and
answers the compact definition now in effect (400 with the reason, nothing changed, when a
set is invalid); DELETE restores the default map (204). A device whose composition has no
Modbus server has no such endpoint (404)."""

from __future__ import annotations

import logging

from aiohttp import web

from emulator.api.body import BodyError, read_json
from emulator.api.common import DEVICE, error_response, json_response, no_content
from emulator.device.errors import SettingsError
from emulator.device.ports import ModbusMap

_LOG = logging.getLogger(__name__)
PATH = "/api/v1/modbus"
_FORMATS = {"dec": False, "hex": True}


def _port(request: web.Request) -> ModbusMap:
    port = request.app[DEVICE].ports.modbus_map
    if port is None:
        raise web.HTTPNotFound
    return port


async def get_map(request: web.Request) -> web.StreamResponse:
    port = _port(request)
    address_format = request.query.get("address_format")
    if address_format is None:
        return json_response(port.compact())
    if address_format not in _FORMATS:
        return error_response(400, "address_format: must be dec or hex")
    return json_response(port.detailed(_FORMATS[address_format]))


async def post_map(request: web.Request) -> web.StreamResponse:
    port = _port(request)
    try:
        body = await read_json(request)
        compact = await port.replace(body)
    except (BodyError, SettingsError) as exc:
        _LOG.info("POST %s refused: %s", request.path, exc)
        return error_response(400, str(exc))
    except OSError as exc:
        _LOG.error("cannot store the Modbus map: %s", exc)
        return error_response(500)
    _LOG.info("POST %s: Modbus map stored", request.path)
    return json_response(compact)


async def delete_map(request: web.Request) -> web.StreamResponse:
    port = _port(request)
    try:
        await port.reset()
    except OSError as exc:
        _LOG.error("cannot store the Modbus map: %s", exc)
        return error_response(500)
    _LOG.info("Modbus map back to the default")
    return no_content()


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, get_map)
    app.router.add_post(PATH, post_map)
    app.router.add_delete(PATH, delete_map)
