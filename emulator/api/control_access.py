"""Who may steer the emulator (/emulator/v1/: meter faults and values, the clock, and the
control routes to come). No real device has these routes: anyone who reaches them can
silence the meter or move the clock. They are on by default only when the HTTP server is
bound to a loopback address; `--control-api on` turns them on anywhere, `off` nowhere, and a
`--control-token` turns them on and requires the header `X-Emulator-Token` with every
steering request. Protection (the device's password) applies on top, as for every route.
Read-only routes (diagnostics, the web UI's stream) stay open."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from emulator.api.common import error_response

TOKEN_HEADER: Final = "X-Emulator-Token"  # noqa: S105 - a header name, not a secret

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class ControlAccess:
    enabled: bool = True
    token: str = ""

    def refusal(self, request: web.Request) -> web.Response | None:
        """None when `request` may steer the emulator, else the answer."""
        if not self.enabled:
            return error_response(403, "The emulator's control API is off (it is on by "
                                  "default only on a loopback address; start with "
                                  "--control-api on or --control-token TOKEN)")
        if self.token and not hmac.compare_digest(
                request.headers.get(TOKEN_HEADER, "").encode(), self.token.encode()):
            return error_response(403, f"The emulator's control API needs the header "
                                  f"{TOKEN_HEADER}")
        return None


CONTROL: Final = web.AppKey("control_access", ControlAccess)


def steering(handler: Handler) -> Handler:
    """Wrap a route that changes the emulator's state: refused unless control is allowed."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        refusal = request.app[CONTROL].refusal(request)
        if refusal is not None:
            return refusal
        return await handler(request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded
