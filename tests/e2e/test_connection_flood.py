"""Issue 10: more idle connections than the process has file descriptors for do not stop
the device, nor fill its log: the real program, started through its CLI with
RLIMIT_NOFILE lowered, against a bounded number of real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

FD_LIMIT = 128
FLOOD = 200  # more connections than the emulator has descriptors


def low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


async def request(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /api/v1/system HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    try:
        return await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_a_flood_of_idle_connections_does_not_stop_the_device(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATWATT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--http", "127.0.0.1:0", "--data-dir",
        str(tmp_path), cwd=PROJECT_ROOT, env=env, preexec_fn=low_fd_limit,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        port = int(line.rsplit(":", 1)[1])
        for _ in range(FLOOD):
            held.append(await asyncio.open_connection("127.0.0.1", port))
        # Over the cap: answered (503, or 200 once a slot is free), never hanging.
        assert (await request(port)).startswith((b"HTTP/1.1 503 ", b"HTTP/1.1 200 "))
        # The idle ones are closed by the device (EOF, or a 503 for those over the cap) ...
        for reader, _ in held:
            data = await asyncio.wait_for(reader.read(), 60)
            assert data == b"" or data.startswith(b"HTTP/1.1 503 ")
        for _, writer in held:
            writer.close()
        held.clear()
        # ... and it serves again.
        assert (await request(port)).startswith(b"HTTP/1.1 200 ")
    finally:
        for _, writer in held:
            writer.close()
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert await process.wait() == 0
    # The log says it once, it does not write a line per connection.
    assert len(err.decode().splitlines()) < 20, err.decode()[-2000:]
