"""Issue 10: idle and slow-header connections are closed, concurrent connections are
capped (the next one gets a short 503), and the service comes back by itself; with real
sockets on 127.0.0.1, a bounded number of them."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.api import limits
from emulator.app import EmulatorApp
from emulator.config import AppConfig
from tests.conftest import PROJECT_ROOT

CAP = 8


@pytest.fixture
async def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EmulatorApp]:
    monkeypatch.setattr(limits, "MAX_CONNECTIONS", CAP)
    monkeypatch.setattr(limits, "IDLE_TIMEOUT", 0.5)
    app = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data"))
    await app.start()
    yield app
    await app.stop()


async def get(app: EmulatorApp, path: str = "/api/v1/system") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    try:
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


async def test_idle_connections_are_closed_and_the_cap_holds(emulator: EmulatorApp) -> None:
    idle = [await asyncio.open_connection("127.0.0.1", emulator.port) for _ in range(CAP)]
    # A slow client: half a request line, then nothing.
    idle[0][1].write(b"GET /api/v1/sys")
    try:
        # All slots are held: the next connection is answered 503 and closed at once.
        assert (await get(emulator)).startswith(b"HTTP/1.1 503 ")
        # The device closes the idle and the slow connections by itself (EOF) ...
        for reader, _ in idle:
            assert await asyncio.wait_for(reader.read(), 30) == b""
    finally:
        for _, writer in idle:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for _, w in idle), return_exceptions=True)
    # ... and serves again.
    assert (await get(emulator)).startswith(b"HTTP/1.1 200 ")


async def test_over_long_headers_are_refused(emulator: EmulatorApp) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
    writer.write(b"GET /api/v1/system HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000
                 + b"\r\n\r\n")
    try:
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    assert b" 400 " in answer.split(b"\r\n")[0]


def test_the_cap_stays_within_the_descriptor_limit() -> None:
    code = ("import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)); "
            "from emulator.api.limits import connection_cap; print(connection_cap())")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert int(out) == 16


async def test_bad_requests_are_logged_once_then_counted(
        emulator: EmulatorApp, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits.HTTP_LOG, "filters", [limits.OncePerKind()])
    for _ in range(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n")
        await reader.read()
        writer.close()
        await writer.wait_closed()
    lines = [r for r in caplog.records if r.name == "emulator.api.http"]
    assert len(lines) == 1


async def test_accept_errors_are_logged_once_then_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()
    log = logging.getLogger("test.accept")
    try:
        limits.quiet_accept_errors(loop, log)
        limits.quiet_accept_errors(loop, log)  # once per loop
        for _ in range(50):
            loop.call_exception_handler({"message": "socket.accept() out of system resource",
                                         "exception": OSError(24, "Too many open files")})
    finally:
        loop.set_exception_handler(before)
    lines = [r for r in caplog.records if "cannot accept" in r.getMessage()]
    assert len(lines) == 1
