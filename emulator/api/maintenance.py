"""Maintenance (manual 6.11, 6.12, 6.14): reboot, factory reset, firmware upload.

The answer goes out before the reboot starts, as on the device. The reboot itself is the
composition root's job (Device.request_reboot); the process stays up.

POST /load takes a multipart/form-data upload with the field `file` and answers in plain
text: 200 when the image is verified (the device then reboots into it), 400 for anything
that is not an image of the emulator's format (emulator.device.firmware), 413 when it is
larger than the update slot, 415 when the body is not multipart, 503 while another update
or a reboot is under way or when the slot cannot be written. GET /load shows the state.
Unlike the JSON endpoints, /load is not bound by the 8 kB body limit: it streams the file.
An upload that stalls (no bytes for CHUNK_TIMEOUT seconds) or lasts longer than
UPLOAD_DEADLINE is abandoned with 408 and the update slot is free again.
"""

from __future__ import annotations

import asyncio

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from emulator.api.common import API_HEADERS, DEVICE, error_response, log, no_content
from emulator.device.core import Device
from emulator.device.firmware import (
    FirmwareError,
    ImageTooLarge,
    InvalidImage,
    UpdateUnavailable,
)

#: Room for the multipart framing around the file.
MULTIPART_SLACK = 64 * 1024
CHUNK = 64 * 1024
#: Seconds an upload may go without sending a byte, and the longest an upload may take
#: (the slot's 4 MB over a slow Wi-Fi link takes well under a minute).
CHUNK_TIMEOUT = 20.0
UPLOAD_DEADLINE = 300.0
#: What a malformed multipart body raises while it is read.
MALFORMED = (ValueError, HttpProcessingError)


def text_response(status: int, text: str) -> web.Response:
    return web.Response(text=text + "\n", status=status, content_type="text/plain",
                        headers=API_HEADERS)


async def _answer_then_reboot(request: web.Request, response: web.StreamResponse,
                              device: Device, reason: str) -> web.StreamResponse:
    await response.prepare(request)
    await response.write_eof()
    device.request_reboot(reason)
    return response


async def post_reboot(request: web.Request) -> web.StreamResponse:
    return await _answer_then_reboot(request, no_content(), request.app[DEVICE],
                                     "POST /api/v1/reboot")


async def post_restore(request: web.Request) -> web.StreamResponse:
    device = request.app[DEVICE]
    try:
        await device.factory_reset()
    except OSError as exc:
        log(request).error("factory reset failed: %s", exc)
        return error_response(500)
    return await _answer_then_reboot(request, no_content(), device, "factory reset")


async def get_load(request: web.Request) -> web.Response:
    status = request.app[DEVICE].firmware.status()
    return text_response(200, "\n".join(f"{key}: {value}" for key, value in status.items()))


async def _file_part(request: web.Request) -> BodyPartReader | None:
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            return None
        if isinstance(part, BodyPartReader) and part.name == "file":
            return part
        await part.release()


def _said(exc: Exception) -> str:
    """An exception's message as one printable line (a part header may hold anything)."""
    text = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    return "".join(c if c.isprintable() else "?" for c in text.replace("\n", " "))[:200]


async def _next_chunk(part: BodyPartReader) -> bytes:
    """The next chunk of the file; TimeoutError when the client sends nothing for
    CHUNK_TIMEOUT seconds."""
    async with asyncio.timeout(CHUNK_TIMEOUT):
        return await part.read_chunk(CHUNK)


async def post_load(request: web.Request) -> web.StreamResponse:
    device = request.app[DEVICE]
    slot = device.firmware
    if device.reboot_pending:
        return text_response(503, "Device busy: rebooting")
    length = request.content_length
    if length is not None and length > slot.max_image + MULTIPART_SLACK:
        return text_response(413, f"Firmware image larger than {slot.max_image} bytes")
    if request.content_type != "multipart/form-data":
        return text_response(415, "Expected multipart/form-data with the field 'file'")
    try:
        async with asyncio.timeout(CHUNK_TIMEOUT):
            part = await _file_part(request)
    except MALFORMED as exc:
        return text_response(400, f"Malformed multipart body: {_said(exc)}")
    except TimeoutError:
        return text_response(408, "Upload stalled: no data")
    if part is None:
        return text_response(400, "No field 'file' in the upload")
    try:
        # The slot writes to disk (and fsyncs at the end): in a thread, off the event loop.
        await asyncio.to_thread(slot.begin)
        try:
            async with asyncio.timeout(UPLOAD_DEADLINE):
                while chunk := await _next_chunk(part):
                    await asyncio.to_thread(slot.feed, chunk)
        except MALFORMED as exc:
            await asyncio.to_thread(slot.abort, "malformed multipart body")
            return text_response(400, f"Malformed multipart body: {_said(exc)}")
        except TimeoutError:
            await asyncio.to_thread(slot.abort, "upload stalled")
            log(request).info("POST /load from %s: upload stalled, abandoned", request.remote)
            return text_response(408, "Upload stalled: abandoned, the update slot is free")
        except (asyncio.CancelledError, OSError) as exc:
            slot.abort(f"upload interrupted ({exc.__class__.__name__})")
            raise
        version = await asyncio.to_thread(slot.finish)
    except InvalidImage as exc:
        return text_response(400, f"Invalid firmware: {exc}")
    except ImageTooLarge as exc:
        return text_response(413, str(exc))
    except UpdateUnavailable as exc:
        return text_response(503, str(exc))
    except FirmwareError as exc:
        return text_response(500, str(exc))
    response = text_response(200, f"Firmware {version} verified, rebooting")
    return await _answer_then_reboot(request, response, device, f"firmware {version}")


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/reboot", post_reboot)
    app.router.add_post("/api/v1/restore", post_restore)
    app.router.add_get("/load", get_load)
    app.router.add_post("/load", post_load)
