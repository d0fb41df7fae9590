"""Start the real program through its command line, talk to it over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import PROJECT_ROOT

STARTUP_LIMIT = 30.0  # a hang guard, not a performance target (bench/ measures that)


@dataclass
class Proc:
    process: asyncio.subprocess.Process
    first_line: str
    stderr_lines: list[str] = field(default_factory=list)

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), 15)


async def _drain(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode(errors="replace"))


@pytest.fixture
async def spawn() -> AsyncIterator[Callable[..., Any]]:
    started: list[Proc] = []
    drains: list[asyncio.Task[None]] = []

    async def start(*args: str) -> Proc:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("WHATWATT_HTTP", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulator", *args, cwd=PROJECT_ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        proc = Proc(process, "")
        drains.append(asyncio.get_running_loop().create_task(
            _drain(process.stderr, proc.stderr_lines)))
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP_LIMIT)
        proc.first_line = line.decode().strip()
        assert proc.first_line, "".join(proc.stderr_lines)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.process.returncode is None:
            proc.process.kill()
            await proc.process.wait()
    for task in drains:
        task.cancel()
    await asyncio.gather(*drains, return_exceptions=True)


async def device_url(spawn: Callable[..., Any], tmp_path: Path, *args: str) -> tuple[Proc, str]:
    proc = await spawn("--http", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"),
                       "--log-level", "INFO", *args)
    prefix = "whatwatt-emulator: serving "
    assert proc.first_line.startswith(prefix), proc.first_line
    return proc, proc.first_line.removeprefix(prefix)


async def get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def live_events(session: aiohttp.ClientSession, url: str,
                      count: int) -> list[dict[str, Any]]:
    events = []
    async with session.get(url + "/api/v1/live") as response:
        async for raw in response.content:
            if raw.startswith(b"data: "):
                events.append(json.loads(raw[6:]))
                if len(events) == count:
                    break
    return events


async def wait_for_status(session: aiohttp.ClientSession, url: str, wanted: set[str],
                          limit: float = 20.0) -> str:
    """Poll /api/v1/system (a remote process offers nothing to await) until the meter
    status is one of `wanted`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        status = (await get_json(session, url + "/api/v1/system"))["meter"]["status"]
        if status in wanted:
            return str(status)
        assert loop.time() < deadline, f"status stayed {status}, wanted {wanted}"
        await asyncio.sleep(0.1)
