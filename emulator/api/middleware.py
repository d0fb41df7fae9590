"""The device's one middleware: every request to the application passes it once.

It does, in this order, with an early exit at each step (the hot path, a GET with no
fault set, protection off and the licence in force, reads three attributes and one
method name, then calls the handler):

- the last resort (around everything): an exception a handler did not expect becomes
  the device's 500 page (as ESP-IDF's httpd sends it). It is logged once per kind
  (exception class and route) with its traceback, then counted (QuietLog), never a
  traceback per request; the counts are kept on the application (`FAULTS`) for tests and
  diagnostics.
- HTTP faults (emulator.api.faults), before authentication: they stand for the network.
  Looked at only while the fault table is `armed`.
- device errors (emulator.api.common.device_error), around the steps below and the
  handler: aiohttp's 404/405/413 and refused bodies and settings as the device answers.
- authentication (emulator.api.auth), only while a password is `required`.
- same origin, only for a request that changes something (any method but GET, HEAD,
  OPTIONS): one that carries an `Origin` that is not the device itself, or
  `Sec-Fetch-Site: cross-site` / `same-site`, is refused with 403 before it reaches a
  handler. Browsers send these headers on every cross-site POST, so a page elsewhere
  cannot change settings, upload firmware or reboot the device; curl, scripts and
  integrations send neither.
- the licence gate (emulator.api.license), only while the device is not licensed.
- after the handler: a file response, or an HTTP error let through, for the web UI's
  paths is marked for revalidation (emulator.api.webui.revalidate).

One middleware, not one per step: aiohttp's dispatch costs a call and a coroutine per
layer and per request, which was most of what /api/v1/report cost over a bare handler.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from emulator.api.auth import Authenticator
from emulator.api.common import DEVICE, DEVICE_ERRORS, LOG, device_error, error_response, log
from emulator.api.faults import FAULTS_TABLE, FaultTable, fault_response
from emulator.api.license import licence_refusal
from emulator.api.webui import revalidate
from emulator.runtime.logs import QuietLog

#: Per-application counts of unexpected exceptions, by kind.
FAULTS: Final = web.AppKey("faults", QuietLog)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def install(app: web.Application) -> None:
    """Keep the fault counter on `app`, logging through its device logger (set before)."""
    app[FAULTS] = QuietLog(app[LOG], level=logging.ERROR, period=600.0)


def _last_resort(request: web.Request, exc: Exception, faults: QuietLog) -> web.Response:
    route = request.match_info.route.resource
    where = route.canonical if route is not None else request.path
    kind = f"{type(exc).__name__} in {request.method} {where}"
    if faults.counts.get(kind, 0) == 0:
        log(request).exception("unexpected error, answered 500: %s", kind)
    faults.problem(kind, "unexpected error, answered 500: %s", kind)
    return error_response(500)


def _origin_host(origin: str) -> str | None:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def _request_host(request: web.Request) -> str:
    host = request.host.lower()
    if host.startswith("["):
        name, _, port = host.rpartition("]:")
        return f"{name.strip('[]')}:{port}" if port.isdigit() else f"{host.strip('[]')}:80"
    name, sep, port = host.rpartition(":")
    return host + ":80" if not sep or not port.isdigit() else f"{name}:{port}"


def foreign(request: web.Request) -> str | None:
    """Why a state-changing request comes from a foreign page, or None."""
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    if site in ("cross-site", "same-site"):
        return f"Sec-Fetch-Site: {site}"
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    host = _origin_host(origin)
    if host is None or host != _request_host(request):
        return f"Origin {origin[:100]}"
    return None


def origin_refusal(request: web.Request) -> web.Response | None:
    """The 403 for a state-changing request from a foreign page, or None."""
    why = foreign(request)
    if why is None:
        return None
    log(request).info("%s %s refused: a request from another site (%s)",
                      request.method, request.path, why)
    return error_response(403, "Forbidden: requests from other sites cannot change the "
                               "device")


def device_middleware(app: web.Application, auth: Authenticator) -> Middleware:
    """The middleware of `app` (its device, fault counter and fault table set up)."""
    device = app[DEVICE]
    faults = app[FAULTS]
    table = app.get(FAULTS_TABLE)
    if table is None:
        table = FaultTable()  # never armed: this application has no control API

    @web.middleware
    async def device_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if table.armed:
                answer = await fault_response(request, table, device)
                if answer is not None:
                    return answer
            try:
                password = auth.required
                if password is not None:
                    refused = auth.refusal(request, password)
                    if refused is not None:
                        return refused
                if request.method not in SAFE_METHODS:
                    refused = origin_refusal(request)
                    if refused is not None:
                        return refused
                if not device.licensed:
                    refused = licence_refusal(request)
                    if refused is not None:
                        return refused
                response = await handler(request)
                if isinstance(response, web.FileResponse):
                    revalidate(request, response)
                return response
            except DEVICE_ERRORS as exc:
                answer = device_error(exc)
                if answer is None:
                    if isinstance(exc, web.HTTPException):
                        revalidate(request, exc)
                    raise
                return answer
        except (web.HTTPException, asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as exc:  # noqa: BLE001 - the last resort: any handler bug
            return _last_resort(request, exc, faults)

    return device_gate
