"""A virtual meter at the far end of a real wire: a pty (like a USB P1 cable) or TCP (like a
P1-to-Wi-Fi dongle or ser2net). A meter does not care whether anyone listens: frames sent
while no reader is attached are dropped, never queued into a stale backlog."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import tty
from pathlib import Path

from emulator.device.clock import Clock
from emulator.meter.driver import MeterDriver
from meter_protocols.simulator.meter import VirtualMeter

_LOG = logging.getLogger(__name__)

#: How often a pty with no reader attached is checked for one, in real seconds.
READER_POLL = 0.1
#: A TCP client whose unsent data exceeds this is too slow: its frames are dropped.
CLIENT_BACKLOG = 64 * 1024


#: Where the ptys that --link points to live; a symlink pointing elsewhere is not ours.
PTY_DIR = "/dev/pts/"


class LinkInUse(Exception):
    """--link names a path that is not a link to a pty (a file, a directory, a link to
    something else): it is left alone."""


def replace_link(link: Path, target: str) -> None:
    """Make `link` a symlink to the pty `target`. An existing path is replaced only when it
    is a symlink to a pty (one this command made in an earlier run); anything else is
    refused, so --link never deletes a user's file."""
    if link.is_symlink():
        points_to = os.readlink(link)
        if not points_to.startswith(PTY_DIR):
            raise LinkInUse(f"--link {link}: a symlink to {points_to}, not to a pty; "
                            "not replaced (remove it or choose another path)")
        link.unlink()
    elif link.exists():
        raise LinkInUse(f"--link {link}: the path exists and is not a symlink to a pty; "
                        "not replaced (remove it or choose another path)")
    link.symlink_to(target)


class PtyMeterServer:
    def __init__(self, meter: VirtualMeter, clock: Clock, link: Path | None = None) -> None:
        self.driver = MeterDriver(meter, clock)
        self.link = link
        self.path = ""
        self._master = -1
        self._reader_present = False
        self._pending = bytearray()
        self._task: asyncio.Task[None] | None = None
        self._poll: asyncio.TimerHandle | None = None
        self.frames_sent = 0
        self.frames_dropped = 0

    async def start(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation: the line carries bytes as sent
        self.path = os.ttyname(slave)
        os.close(slave)  # only the reader holds the slave; its absence then reads as EIO
        os.set_blocking(master, False)
        self._master = master
        if self.link is not None:
            try:
                replace_link(self.link, self.path)
            except (OSError, LinkInUse):
                os.close(master)
                self._master = -1
                raise
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._on_readable)
        self._task = loop.create_task(self.driver.run_pushes(self._send), name="pty meter")
        return self.path

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            # No process has the slave open: nobody listens. Look again shortly.
            self._reader_present = False
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._master)
            self._poll = loop.call_later(READER_POLL, loop.add_reader, self._master,
                                         self._on_readable)
            return
        self._reader_present = True
        answer = self.driver.answer(data)
        if answer:
            self._send(answer)

    def _send(self, frame: bytes) -> None:
        if not self._reader_present:
            # Probe: reading tells whether a reader is attached now.
            self._probe()
        if not self._reader_present:
            self.frames_dropped += 1
            return
        self._pending += frame
        self._flush()
        self.frames_sent += 1

    def _probe(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            self._reader_present = True
            return
        except OSError:
            return
        self._reader_present = True
        answer = self.driver.answer(data)
        if answer:
            self._pending += answer

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            written = os.write(self._master, self._pending)
        except BlockingIOError:
            written = 0
        except OSError:
            self._pending.clear()
            return
        del self._pending[:written]
        if self._pending:
            loop.add_writer(self._master, self._drain)

    def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_writer(self._master)
        self._flush()

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._poll is not None:
            self._poll.cancel()
        if self._master >= 0:
            loop.remove_reader(self._master)
            loop.remove_writer(self._master)
            os.close(self._master)
            self._master = -1
        if self.link is not None and self.path:
            with contextlib.suppress(OSError):
                if os.readlink(self.link) == self.path:  # still ours: remove it
                    self.link.unlink()


class TcpMeterServer:
    """Serves one virtual meter to every TCP client; pull requests are answered to the
    client that asked."""

    def __init__(self, meter: VirtualMeter, clock: Clock) -> None:
        self.driver = MeterDriver(meter, clock)
        self._clients: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._client, host, port)
        self._task = asyncio.get_running_loop().create_task(
            self.driver.run_pushes(self._broadcast), name="tcp meter")
        return int(self._server.sockets[0].getsockname()[1])

    def _broadcast(self, frame: bytes) -> None:
        for writer in list(self._clients):
            transport = writer.transport
            if transport.is_closing():
                self._clients.discard(writer)
            elif transport.get_write_buffer_size() < CLIENT_BACKLOG:
                writer.write(frame)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._clients.add(writer)
        peer = writer.get_extra_info("peername")
        _LOG.info("meter client connected: %s", peer)
        try:
            while data := await reader.read(4096):
                answer = self.driver.answer(data)
                if answer:
                    writer.write(answer)
        except ConnectionError:
            pass
        finally:
            self._clients.discard(writer)
            writer.close()
            _LOG.info("meter client gone: %s", peer)
            if task is not None:
                self._handlers.discard(task)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._server is not None:
            self._server.close()
        for writer in list(self._clients):
            writer.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
