"""HTTP-side faults of the device API, switched on through /emulator/v1/faults.

A fault matches requests by path (an fnmatch pattern such as `/api/v1/*`) and, optionally,
method, and does one or more of: wait `latency_ms` (real time: it stands for a slow network
or a busy device, and a manual clock must not freeze the answer), answer an error `status`
with the device's own body, `drop` the connection without any answer, or end an SSE stream
after `sse_stop_after` events. The first fault that matches a request applies. A fault with
`duration_s` clears itself after that much device time (control_timers), and is also
ignored once its moment has passed, whatever the timer. Faults never apply to the
emulator's own routes (/emulator/v1/...): the way to clear them must stay open.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from emulator.api.common import error_response
from emulator.device.core import Device
from emulator.device.errors import SettingsError

CONTROL_PREFIX: Final = "/emulator/"
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
#: At most this many faults at once (a runaway script cannot grow memory).
MAX_FAULTS: Final = 64
MAX_LATENCY_MS: Final = 120_000


@dataclass(frozen=True, slots=True)
class Fault:
    id: str
    route: str
    method: str | None = None
    latency_ms: int | None = None
    status: int | None = None
    drop: bool = False
    sse_stop_after: int | None = None
    duration_s: float | None = None
    expires: float | None = None  # device wall time; None: until deleted

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and \
            fnmatch.fnmatchcase(path, self.route)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "route": self.route, "method": self.method,
                "latency_ms": self.latency_ms, "status": self.status, "drop": self.drop,
                "sse_stop_after": self.sse_stop_after, "duration_s": self.duration_s,
                "expires": None if self.expires is None else
                datetime.fromtimestamp(self.expires).astimezone().isoformat(
                    timespec="milliseconds")}


def _count(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{key}: expected a whole number {low}..{high}")
    return value


KEYS: Final = frozenset({"route", "method", "latency_ms", "status", "drop", "sse_stop_after",
                         "duration_s"})


def parse_fault(body: Any, fault_id: str) -> Fault:
    """A fault from a POST body, or SettingsError (400) naming what is wrong."""
    if not isinstance(body, dict):
        raise SettingsError("body: expected a JSON object")
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise SettingsError(f"{unknown[0]}: not a fault key ({', '.join(sorted(KEYS))})")
    route = body.get("route")
    if not isinstance(route, str) or not route.startswith("/") or len(route) > 200:
        raise SettingsError("route: expected a path pattern such as /api/v1/report or "
                            "/api/v1/*")
    if route.startswith(CONTROL_PREFIX):
        raise SettingsError("route: faults never apply to the emulator's own routes")
    method = body.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise SettingsError(f"method: expected one of {', '.join(sorted(METHODS))} "
                                f"or null")
        method = method.upper()
    drop = body.get("drop", False)
    if not isinstance(drop, bool):
        raise SettingsError("drop: expected true or false")
    fault = Fault(id=fault_id, route=route, method=method,
                  latency_ms=_count(body, "latency_ms", 0, MAX_LATENCY_MS),
                  status=_count(body, "status", 100, 599), drop=drop,
                  sse_stop_after=_count(body, "sse_stop_after", 0, 1_000_000))
    if fault.latency_ms is None and fault.status is None and not fault.drop and \
            fault.sse_stop_after is None:
        raise SettingsError("a fault needs latency_ms, status, drop or sse_stop_after")
    return fault


class FaultTable:
    """The faults in force, in the order they were added. `armed` says whether any is in
    force: the device's middleware reads that one attribute on every request and looks
    further only when it is true."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._ids = itertools.count(1)
        self.armed = False

    def new_id(self) -> str:
        return f"f{next(self._ids)}"

    def add(self, fault: Fault) -> None:
        if len(self._faults) >= MAX_FAULTS:
            raise SettingsError(f"at most {MAX_FAULTS} faults at once: delete some first")
        self._faults[fault.id] = fault
        self.armed = True

    def remove(self, fault_id: str) -> bool:
        removed = self._faults.pop(fault_id, None) is not None
        self.armed = bool(self._faults)
        return removed

    def clear(self) -> None:
        self._faults.clear()
        self.armed = False

    def active(self, now: float) -> list[Fault]:
        expired = [f.id for f in self._faults.values()
                   if f.expires is not None and f.expires <= now]
        for fault_id in expired:
            del self._faults[fault_id]
        self.armed = bool(self._faults)
        return list(self._faults.values())

    def find(self, method: str, path: str, now: float) -> Fault | None:
        if not self._faults or path.startswith(CONTROL_PREFIX):
            return None
        return next((f for f in self.active(now) if f.matches(method, path)), None)


FAULTS_TABLE: Final = web.AppKey("http_faults", FaultTable)
#: The SSE budget a matching fault gives a stream (events before it ends), on the request.
SSE_BUDGET: Final = web.RequestKey("sse_budget", int)


def sse_budget(request: web.Request) -> int | None:
    """How many events an SSE handler may still send on this request (None: no limit)."""
    return request.get(SSE_BUDGET)


async def fault_response(request: web.Request, table: FaultTable,
                         device: Device) -> web.StreamResponse | None:
    """Apply the first fault that matches `request` (the table is armed): wait its
    latency, then its answer (an error, or a dropped connection), or None to let the
    request go on (with an SSE budget when the fault sets one)."""
    fault = table.find(request.method, request.path, device.clock.time())
    if fault is None:
        return None
    if fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.drop:
        if request.transport is not None:
            request.transport.abort()
        # Nothing reaches the client: aiohttp finds the transport closed and moves on.
        return web.Response(status=204)
    if fault.status is not None:
        return error_response(fault.status)
    if fault.sse_stop_after is not None:
        request[SSE_BUDGET] = fault.sse_stop_after
    return None
