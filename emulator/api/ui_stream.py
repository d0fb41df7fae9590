"""GET /emulator/v1/ui/stream: the web UI's own event stream (not the device's).

The device's /api/v1/live serves one client at a time; a browser page that used it would
take it away from whichever integration reads it. The UI reads this stream instead, which
any number of pages may open. Events:

    event: state    {"meter": {...status, message...}, "services": {name: status}}
                    at connection and at every change of the meter status or a service
    event: report   the body of /api/v1/report, at every report

A page that falls behind loses the oldest events (a live view wants the newest values).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

from aiohttp import web

from emulator.api.common import DEVICE, dumps, log
from emulator.api.report import CACHE, report_body
from emulator.device.core import Device
from emulator.device.hub import SubscriptionEnded
from emulator.device.service_status import ServiceStatus
from emulator.device.status import MeterStatus

#: Events queued for a slow page before the oldest is dropped.
QUEUE_SIZE: Final = 16

Event = tuple[str, bytes]


def state_event(device: Device) -> Event:
    link = device.meter
    state: dict[str, Any] = {
        "meter": {"status": link.status.value, "message": link.message,
                  "interface": link.interface.value, "line": link.line,
                  "frames": link.frames},
        "services": {name: status.to_json() for name, status in device.services.all().items()},
    }
    return "state", dumps(state).encode()


def encode(event: Event) -> bytes:
    name, data = event
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


class _Feed:
    """One page's queue: reports, meter status and service changes, bounded."""

    def __init__(self, device: Device, cache: Any) -> None:
        self.device = device
        self.cache = cache
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = 0
        self._remove = [device.on_status(self._on_status),
                        device.services.subscribe(self._on_service)]

    def put(self, event: Event | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    def _on_status(self, _status: MeterStatus) -> None:
        self.put(state_event(self.device))

    def _on_service(self, _name: str, _status: ServiceStatus) -> None:
        self.put(state_event(self.device))

    def close(self) -> None:
        for remove in self._remove:
            with contextlib.suppress(ValueError):
                remove()
        self._remove.clear()


class _Open:
    """The pages connected now (ended at shutdown)."""

    def __init__(self) -> None:
        self.feeds: set[_Feed] = set()


FEEDS: Final = web.AppKey("ui_feeds", _Open)


async def get_ui_stream(request: web.Request) -> web.StreamResponse:
    device = request.app[DEVICE]
    feed = _Feed(device, request.app[CACHE])
    request.app[FEEDS].feeds.add(feed)
    subscription = device.reports.subscribe(QUEUE_SIZE)

    async def pump_reports() -> None:
        try:
            while True:
                await subscription.get()
                feed.put(("report", report_body(device, feed.cache)))
        except SubscriptionEnded:
            feed.put(None)  # a reboot ends the device's streams; the page reconnects

    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})
    await response.prepare(request)
    pump = asyncio.get_running_loop().create_task(pump_reports(), name="ui stream reports")
    try:
        await response.write(encode(state_event(device)))
        if device.latest is not None:
            await response.write(encode(("report", report_body(device, feed.cache))))
        while (event := await feed.queue.get()) is not None:
            await response.write(encode(event))
    except (ConnectionError, RuntimeError) as exc:  # the page went away mid-write
        log(request).debug("ui stream client gone: %s", exc)
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        subscription.close()
        feed.close()
        request.app[FEEDS].feeds.discard(feed)
    return response


async def _end_streams(app: web.Application) -> None:
    for feed in list(app[FEEDS].feeds):
        feed.put(None)


def setup(app: web.Application) -> None:
    app[FEEDS] = _Open()
    app.router.add_get("/emulator/v1/ui/stream", get_ui_stream)
    app.on_shutdown.append(_end_streams)

