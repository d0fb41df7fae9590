"""The outermost middlewares: a last resort for handler bugs, and the refusal of requests
that a foreign web page makes a browser send.

- `last_resort`: an exception a handler did not expect becomes the device's 500 page
  (as ESP-IDF's httpd sends it). It is logged once per kind (exception class and route)
  with its traceback, then counted (QuietLog), never a traceback per request; the counts
  are kept on the application (`FAULTS`) for tests and diagnostics.
- `same_origin`: a request that changes something (any method but GET, HEAD, OPTIONS)
  and carries an `Origin` that is not the device itself, or `Sec-Fetch-Site: cross-site`
  / `same-site`, is refused with 403 before it reaches a handler. Browsers send these
  headers on every cross-site POST, so a page elsewhere cannot change settings, upload
  firmware or reboot the device; curl, scripts and integrations send neither.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web

from emulator.api.common import LOG, error_response, log
from emulator.runtime.logs import QuietLog

#: Per-application counts of unexpected exceptions, by kind.
FAULTS: Final = web.AppKey("faults", QuietLog)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def install(app: web.Application) -> None:
    """Keep the fault counter on `app`, logging through its device logger (set before)."""
    app[FAULTS] = QuietLog(app[LOG], level=logging.ERROR, period=600.0)


@web.middleware
async def last_resort(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except (web.HTTPException, asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:  # noqa: BLE001 - the last resort: any handler bug
        route = request.match_info.route.resource
        where = route.canonical if route is not None else request.path
        kind = f"{type(exc).__name__} in {request.method} {where}"
        faults = request.app.get(FAULTS)
        if faults is None or faults.counts.get(kind, 0) == 0:
            log(request).exception("unexpected error, answered 500: %s", kind)
        if faults is not None:
            faults.problem(kind, "unexpected error, answered 500: %s", kind)
        return error_response(500)
    return response


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


@web.middleware
async def same_origin(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.method not in SAFE_METHODS:
        why = foreign(request)
        if why is not None:
            log(request).info("%s %s refused: a request from another site (%s)",
                              request.method, request.path, why)
            return error_response(403, "Forbidden: requests from other sites cannot "
                                       "change the device")
    response: web.StreamResponse = await handler(request)
    return response
