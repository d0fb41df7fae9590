"""`whatwatt-emulator fleet` through its command line: the index line, the devices, the
environment variables, and one clear line for what cannot be used."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from tests.conftest import PROJECT_ROOT
from tests.e2e.conftest import get_json
from tests.e2e.test_startup_errors import busy_port, one_error_line, run_cli

pytestmark = pytest.mark.e2e
PREFIX = "whatwatt-emulator: fleet index "


async def test_a_fleet_starts_serves_and_stops(spawn: Callable[..., Any],
                                               tmp_path: Path) -> None:
    proc = await spawn("fleet", "--devices", "4", "--http", "127.0.0.1:0", "--no-mdns",
                       "--data-dir", str(tmp_path), "--profiles", "ensor-ers:1,lg-e570:1",
                       "--shard", "2", "--shard-size", "10")
    assert proc.first_line.startswith(PREFIX), proc.first_line
    index = proc.first_line.removeprefix(PREFIX)
    assert index.startswith("http://127.0.0.1:") and index.endswith("/fleet")
    async with aiohttp.ClientSession() as client:
        listing = await get_json(client, index)
        assert [d["status"] for d in listing] == ["serving"] * 4
        assert [d["global_index"] for d in listing] == [20, 21, 22, 23]
        assert {d["profile"] for d in listing} == {"ensor-ers", "lg-e570"}
        for entry in listing:
            system = await get_json(client, f"{index}/{entry['id']}/api/v1/system")
            assert system["device"]["id"] == entry["id"]
    assert sorted(os.listdir(tmp_path)) == sorted(d["id"] for d in listing)
    assert await proc.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--profiles", "nope:1"], {}, "unknown profile 'nope'"),
    (["--devices", "0"], {}, "whole number above 0"),
    ([], {"WHATWATT_DEVICES": "300", "WHATWATT_DEVICE_HTTP": "127.0.1.0/24:80"},
     "room for 254 devices"),
    (["--shard", "hostname"], {"WHATWATT_DEVICES": "1"}, "NAME-ORDINAL"),
    ([], {"WHATWATT_DEVICE_HTTP": "here"}, "(from WHATWATT_DEVICE_HTTP)"),
])
async def test_what_cannot_be_used_is_one_line_and_exit_2(
        args: list[str], env: dict[str, str], says: str, tmp_path: Path) -> None:
    if args == ["--shard", "hostname"] and socket.gethostname().rpartition("-")[2].isdigit():
        pytest.skip("this host's name ends in an ordinal")
    code, out, err = await run_cli("fleet", "--data-dir", str(tmp_path), "--no-mdns",
                                   "--http", "127.0.0.1:0", *args, env=env)
    assert code == 2
    assert out == ""
    assert says in one_error_line(err)


async def test_a_busy_index_port_is_one_line(tmp_path: Path) -> None:
    with busy_port() as port:
        code, out, err = await run_cli("fleet", "--devices", "1", "--no-mdns",
                                       "--data-dir", str(tmp_path),
                                       "--http", f"127.0.0.1:{port}")
    assert code == 2
    assert out == ""
    assert "cannot serve the fleet index" in one_error_line(err)


async def test_the_fleet_raises_its_descriptor_limit(tmp_path: Path) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip(f"the hard descriptor limit ({hard}) leaves nothing to raise")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATWATT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "fleet", "--devices", "2", "--no-mdns",
        "--http", "127.0.0.1:0", "--data-dir", str(tmp_path), cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard)))
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line.startswith(PREFIX.encode()), line
        limits = Path(f"/proc/{process.pid}/limits").read_text()  # noqa: ASYNC240
        row = next(r for r in limits.splitlines() if r.startswith("Max open files"))
        assert row.split()[3] == str(hard), row
    finally:
        process.terminate()
        await process.wait()


async def test_a_busy_broker_port_is_one_line(tmp_path: Path) -> None:
    with busy_port() as port:
        code, out, err = await run_cli("fleet", "--devices", "1", "--no-mdns",
                                       "--data-dir", str(tmp_path), "--http", "127.0.0.1:0",
                                       "--mqtt-broker", str(port))
    assert code == 2
    assert out == ""
    line = one_error_line(err)
    assert f"cannot start the fleet's MQTT broker on 127.0.0.1:{port}" in line, line


def _broker_child(pid: int) -> int:
    brokers = [c.pid for c in psutil.Process(pid).children()
               if "emulator.fleet.broker_process" in c.cmdline()]
    assert len(brokers) == 1, brokers
    return brokers[0]


def _ended(pid: int, limit: float) -> bool:
    """Whether process `pid` ended (or is a zombie nobody reaps) within `limit` seconds."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


async def test_the_broker_process_ends_with_the_fleet(spawn: Callable[..., Any],
                                                     tmp_path: Path) -> None:
    """The fleet's broker runs in a process of its own; killed outright, the fleet takes
    it along (the broker ends when its standard input, held by the fleet, closes)."""
    proc = await spawn("fleet", "--devices", "2", "--http", "127.0.0.1:0", "--no-mdns",
                       "--data-dir", str(tmp_path), "--mqtt-broker", "0")
    assert proc.first_line.startswith(PREFIX), proc.first_line
    broker = _broker_child(proc.process.pid)
    index = proc.first_line.removeprefix(PREFIX)
    async with aiohttp.ClientSession() as client:
        listing = await get_json(client, index)
        settings = await get_json(client, f"{index}/{listing[0]['id']}/api/v1/mqtt/settings")
    broker_port = int(settings["url"].rsplit(":", 1)[1])
    _, writer = await asyncio.open_connection("127.0.0.1", broker_port)  # it listens
    writer.close()
    await writer.wait_closed()
    await proc.stop(signal.SIGKILL)
    assert await asyncio.to_thread(_ended, broker, 20.0)
