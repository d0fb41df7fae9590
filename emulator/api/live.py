"""GET /api/v1/live: server-sent events, one `live` event per meter report.

Only one client at a time, as on the device: a new connection ends the previous stream.
No heartbeat comments and no retry field, as the newer documentation says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web

from emulator.api.common import DEVICE, dumps, log
from emulator.api.faults import sse_budget
from emulator.device.faces.live import live_event
from emulator.device.hub import Subscription, SubscriptionEnded
from emulator.device.values import Report

#: Reports queued for a slow client before the oldest is dropped.
QUEUE_SIZE = 4


@dataclass
class _LiveChannel:
    current: Subscription[Report] | None = None


CHANNEL: Final = web.AppKey("live_channel", _LiveChannel)


def encode_event(payload: str) -> bytes:
    return b"event: live\ndata: " + payload.encode() + b"\n\n"


async def get_live(request: web.Request) -> web.StreamResponse:
    device = request.app[DEVICE]
    channel = request.app[CHANNEL]
    if channel.current is not None:
        log(request).info("a new live client replaces the previous one")
        channel.current.end()
    subscription = device.reports.subscribe(QUEUE_SIZE)
    channel.current = subscription
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Connection": "keep-alive",
    })
    await response.prepare(request)
    budget = sse_budget(request)  # a control-API fault: the stream ends after N events
    try:
        while budget is None or budget > 0:
            report = await subscription.get()
            event = live_event(report, device.zone, device.uptime())
            await response.write(encode_event(dumps(event)))
            budget = None if budget is None else budget - 1
    except SubscriptionEnded:
        pass
    except (ConnectionError, RuntimeError) as exc:  # client went away mid-write
        log(request).debug("live client gone: %s", exc)
    finally:
        subscription.close()
        if channel.current is subscription:
            channel.current = None
    return response


async def _end_stream(app: web.Application) -> None:
    current = app[CHANNEL].current
    if current is not None:
        current.end()


def setup(app: web.Application) -> None:
    app[CHANNEL] = _LiveChannel()
    app.router.add_get("/api/v1/live", get_live)
    app.on_shutdown.append(_end_stream)
