"""SD logging survives power cuts: the real emulator (started through its CLI, logging a
row every second of a clock running 20 times real time) is killed with SIGKILL right after
it writes a row and restarted on the same data dir: 50 kills, shared by two devices that
run side by side on their own data dirs to keep the wall time short.

After every kill the day file still holds every row seen before the kill, every complete
line parses into the 64 columns, and at most the one row being written is torn; after every
restart the logger has cut that torn row off, so the whole file parses with Python's csv
module, the header once at the top. SIGKILL keeps the page cache, so this proves the
append protocol (one write per row, cut back on failure, torn tail cut at start); the
fsync per row is what makes it hold through a real power cut.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.device.faces.csv_row import NAMES
from tests.e2e.conftest import device_url

pytestmark = pytest.mark.e2e

KILLS = 50
PARALLEL = 2  # two devices, each on its own data dir, share the kills (start-up is ~1 s)
START = "2025-01-22T12:00:00+01:00"
DAY = "20250122.CSV"
GROW_LIMIT = 20.0  # a hang guard


def read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


async def grown(path: Path, beyond: int) -> bytes:
    """Poll the file (a remote process offers nothing to await) until it holds more
    complete lines than `beyond`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GROW_LIMIT
    while True:
        data = await asyncio.to_thread(read, path)
        if data.count(b"\n") > beyond:
            return data
        assert loop.time() < deadline, f"{path} did not grow beyond {beyond} lines"
        await asyncio.sleep(0.005)


def complete(data: bytes) -> bytes:
    return data[:data.rfind(b"\n") + 1]


def parse(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == list(NAMES)
    assert all(len(row) == 64 for row in rows), [len(r) for r in rows if len(r) != 64]
    assert list(NAMES) not in rows[1:]  # the header once
    return rows


async def test_the_day_file_survives_50_kills(spawn: Callable[..., Any], tmp_path: Path) -> None:
    results = await asyncio.gather(*(
        kill_loop(spawn, tmp_path / f"device{n}", KILLS // PARALLEL, random.Random(n))
        for n in range(PARALLEL)))
    assert sum(kills for kills, _rows, _torn in results) == KILLS
    print(f"{KILLS} kills; rows, torn rows cut per device: {results}")


async def kill_loop(spawn: Callable[..., Any], tmp_path: Path, kills: int,
                    rng: random.Random) -> tuple[int, int, int]:
    day = tmp_path / "data" / "sdcard" / DAY
    args = ("--speed", "20", "--start-time", START)
    proc, url = await device_url(spawn, tmp_path, *args)
    async with aiohttp.ClientSession() as session, session.put(
            url + "/api/v1/settings",
            json={"services": {"sd": {"enable": True, "frequency": 1}}}) as response:
        assert response.status == 200
    lines = 1  # the header, at least, before the first row
    torn = 0
    for kill in range(kills):
        seen = complete(await grown(day, lines))
        await asyncio.sleep(rng.uniform(0, 0.05))  # anywhere in the next row's period
        await proc.stop(signal.SIGKILL)
        after = await asyncio.to_thread(read, day)
        assert after.startswith(seen), f"kill {kill}: rows seen before the kill are gone"
        parse(complete(after))
        torn += after != complete(after)
        lines = complete(after).count(b"\n")
        proc, url = await device_url(spawn, tmp_path, *args)  # the logger repairs at start
        parse(await grown(day, lines))  # a new row: the whole file parses again
    final = complete(await asyncio.to_thread(read, day))
    rows = parse(final)
    assert len(rows) - 1 >= kills
    async with aiohttp.ClientSession() as session, session.get(
            f"{url}/sdcard/{DAY}") as response:  # the same file, through /sdcard/
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/csv"
        served = await response.read()
    assert served.startswith(final)  # the file only grows meanwhile
    parse(complete(served))
    await proc.stop()
    return kills, len(rows) - 1, torn
