"""Limits of the HTTP server, so that no client can stop the device by holding connections.

- A connection that sends no request (or only part of its headers) for IDLE_TIMEOUT
  seconds is closed (aiohttp's keep-alive timer runs from the moment a connection opens).
- Request lines and header fields are bounded (MAX_LINE, MAX_FIELD, MAX_HEADERS): longer
  ones get 400 from aiohttp's parser.
- At most `connection_cap()` connections are served at once: MAX_CONNECTIONS, and never
  more than a quarter of the process's file descriptor limit, so the data dir and the
  meter line always find descriptors; the listen backlog (how many connections asyncio
  accepts in one go) is an eighth of it. A connection over the cap gets a short 503 and
  is closed at once.
- The event loop's "socket.accept() out of system resource" and connections refused for
  the cap are logged once, then counted (QuietLog), never once per connection.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from emulator.runtime.logs import Logger, QuietLog

IDLE_TIMEOUT = 15.0
MAX_LINE = 4096
MAX_FIELD = 4096
MAX_HEADERS = 64
MAX_CONNECTIONS = 256
MAX_BACKLOG = 64
#: Seconds a connection turned away stays open for its 503 to be read.
BUSY_LINGER = 1.0
#: A connection accepted but not yet handed to its handler counts for this long.
PENDING_GRACE = 1.0

BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n"
        b"Content-Length: 19\r\nConnection: close\r\n\r\nService unavailable")

_LOG = logging.getLogger("emulator.api")


class OncePerKind(logging.Filter):
    """Lets the first line of each message through, then one per `period` seconds with
    the count of those held back (aiohttp's server logs every bad request)."""

    def __init__(self, period: float = 60.0) -> None:
        super().__init__()
        self.period = period
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = str(record.msg)[:80]
        last, held = self._seen.get(kind, (float("-inf"), 0))
        if record.created - last < self.period:
            if len(self._seen) < 256 or kind in self._seen:
                self._seen[kind] = (last, held + 1)
            return False
        self._seen[kind] = (record.created, 0)
        if held:
            record.msg = f"{record.msg} ({held} more since the last report)"
        record.exc_info = record.exc_info if not held else None
        return True


#: The logger aiohttp's request handlers write to (bad requests, handler crashes).
HTTP_LOG = logging.getLogger("emulator.api.http")
HTTP_LOG.addFilter(OncePerKind())


def handler_args() -> dict[str, Any]:
    """The aiohttp request handler's limits (for web.AppRunner)."""
    return {"keepalive_timeout": IDLE_TIMEOUT, "max_line_size": MAX_LINE,
            "max_field_size": MAX_FIELD, "max_headers": MAX_HEADERS, "logger": HTTP_LOG}


def _fd_limit() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def connection_cap() -> int:
    """MAX_CONNECTIONS, within a quarter of the process's file descriptor limit: the rest
    is for the device itself and for connections accepted in a burst before the gate
    turns them away."""
    soft = _fd_limit()
    return MAX_CONNECTIONS if soft is None else max(1, min(MAX_CONNECTIONS, soft // 4))


def backlog() -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go
    (each takes a descriptor before the gate sees it): an eighth of the limit, at most
    MAX_BACKLOG."""
    soft = _fd_limit()
    return MAX_BACKLOG if soft is None else max(1, min(MAX_BACKLOG, soft // 8))


class _Busy(asyncio.Protocol):
    """A connection over the cap: a 503, our side shut, whatever the client sends read and
    dropped (closing with unread data would reset the connection before the client reads
    the answer), and the socket closed when the client closes or after BUSY_LINGER."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(BUSY)
        if transport.can_write_eof():
            transport.write_eof()
        self._timer = asyncio.get_running_loop().call_later(BUSY_LINGER, transport.abort)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()


class ConnectionGate:
    """The protocol factory of the listening socket: aiohttp's handler while fewer than
    `limit` connections are open, a _Busy answer otherwise."""

    def __init__(self, server: web.Server, limit: int, log: Logger) -> None:
        self.server = server
        self.limit = limit
        self.refused = QuietLog(log, period=60.0)
        self._pending: list[tuple[RequestHandler, float]] = []

    def open_connections(self) -> int:
        now = asyncio.get_running_loop().time()
        self._pending = [(handler, since) for handler, since in self._pending
                         if handler.transport is None and now - since < PENDING_GRACE]
        return len(self.server.connections) + len(self._pending)

    def __call__(self) -> asyncio.BaseProtocol:
        if self.open_connections() >= self.limit:
            self.refused.problem("cap", "HTTP: %d connections open, new ones get 503",
                                 self.limit)
            return _Busy()
        handler = self.server()
        self._pending.append((handler, asyncio.get_running_loop().time()))
        return handler


class LimitedSite(web.TCPSite):
    """A TCP site whose connections pass the ConnectionGate."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, *, limit: int,
                 log: Logger = _LOG) -> None:
        super().__init__(runner, host, port)
        self.limit = limit
        self.log = log
        self.gate: ConnectionGate | None = None

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        self.gate = ConnectionGate(server, self.limit, self.log)
        self._server = await asyncio.get_running_loop().create_server(
            self.gate, self._host, self._port, backlog=backlog(),
            reuse_address=self._reuse_address)


_ACCEPT = "socket.accept() out of system resource"


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, log: Logger = _LOG) -> None:
    """Route the loop's accept errors (out of descriptors) through a QuietLog; any other
    error goes where it went before. Installed once per loop."""
    previous = loop.get_exception_handler()
    if getattr(previous, "quiet_accept", False):
        return
    quiet = QuietLog(log, period=60.0)

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == _ACCEPT:
            exc = context.get("exception")
            quiet.problem("accept", "HTTP: cannot accept connections: %s "
                          "(retrying every second)", exc)
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.quiet_accept = True  # type: ignore[attr-defined]
    handler.quiet = quiet  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)
