"""/sdcard/ (manual 6.13, newer docs 50-settings/sdcard/) and the /sd.html page.

GET of a directory (a path ending in `/`, or naming a directory) lists it as JSON; GET of a
file streams its bytes with a MIME type from its extension (text/csv for .CSV), in chunks,
up to the size it had when the request came (a day file may grow meanwhile); DELETE removes
a file or a directory with everything in it (204). The root cannot be deleted (400); a
missing entry is 404; no card is 503 everywhere. The path is taken from the raw request
line: encoded separators (%2f, %5c) and NUL are refused here, before decoding, and the
card (the SdCard port) refuses every other way out.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
from typing import Final
from urllib.parse import unquote_to_bytes

from aiohttp import web

from emulator.api.common import API_HEADERS, DEVICE, error_response, json_response, no_content
from emulator.device.ports import SdCard, SdPathRefused
from webui import STATIC_DIR

PREFIX: Final = "/sdcard"
CHUNK: Final = 64 * 1024
_ENCODED_SEPARATOR: Final = re.compile(r"%(2f|5c|00)", re.IGNORECASE)
_MIME: Final = {".csv": "text/csv", ".txt": "text/plain", ".json": "application/json"}


class _Refused(Exception):
    pass


def _card_path(request: web.Request) -> str:
    """The path inside the card, decoded ("" for the root); _Refused if it cannot be."""
    raw = request.raw_path.split("?", 1)[0].split("#", 1)[0]
    rest = raw[len(PREFIX):]
    if rest and not rest.startswith("/"):
        raise _Refused
    if _ENCODED_SEPARATOR.search(rest):
        raise _Refused
    try:
        path = unquote_to_bytes(rest[1:]).decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused from None
    if "\\" in path or "\x00" in path:
        raise _Refused
    return path


def _card(request: web.Request) -> SdCard | None:
    card = request.app[DEVICE].ports.sd_card
    return card if card is not None and card.mounted() else None


def _mime(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    return _MIME.get(ext) or mimetypes.guess_type("x" + ext)[0] or "application/octet-stream"


async def get(request: web.Request) -> web.StreamResponse:
    card = _card(request)
    if card is None:
        return error_response(503)
    try:
        path = _card_path(request)
        is_dir = await card.is_dir(path)
        if is_dir:
            return await _listing(card, path)
        if path.endswith("/"):
            return error_response(404)
        return await _stream(request, card, path)
    except (_Refused, SdPathRefused):
        return error_response(400)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return error_response(404)


async def _listing(card: SdCard, path: str) -> web.Response:
    entries = await card.listing(path)
    shown = f"{PREFIX}/{path.rstrip('/')}/" if path.strip("/") else f"{PREFIX}/"
    return json_response({"path": shown, "files": [
        {"name": e.name, "size": e.size, "type": "dir" if e.is_dir else "file"}
        for e in entries]})


async def _stream(request: web.Request, card: SdCard, path: str) -> web.StreamResponse:
    file = await card.open(path)
    try:
        size = os.fstat(file.fileno()).st_size
        response = web.StreamResponse(headers={**API_HEADERS, "Content-Type": _mime(path)})
        response.content_length = size
        await response.prepare(request)
        left = 0 if request.method == "HEAD" else size
        while left > 0:
            chunk = await asyncio.to_thread(file.read, min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        file.close()


async def delete(request: web.Request) -> web.StreamResponse:
    card = _card(request)
    if card is None:
        return error_response(503)
    try:
        await card.delete(_card_path(request))
    except (_Refused, SdPathRefused):
        return error_response(400)
    except (FileNotFoundError, NotADirectoryError):
        return error_response(404)
    return no_content()


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "sd.html")


def setup(app: web.Application) -> None:
    app.router.add_get("/sd.html", page)
    for path in (PREFIX, PREFIX + "/{tail:.*}"):
        app.router.add_get(path, get)
        app.router.add_delete(path, delete)
