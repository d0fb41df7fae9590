"""The web UI's own stream: any number of pages, the meter's state at once, a report event
per report, and the device's single /api/v1/live client left alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig

URL = "/emulator/v1/ui/stream"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[EmulatorApp]:
    emulator = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data", speed=10))
    await emulator.start()
    yield emulator
    await emulator.stop()


async def events(response: aiohttp.ClientResponse, count: int) -> list[tuple[str, Any]]:
    """The next `count` server-sent events: (name, parsed data)."""
    out: list[tuple[str, Any]] = []
    name = ""
    while len(out) < count:
        line = (await asyncio.wait_for(response.content.readline(), 30)).decode()
        assert line, "the stream ended"
        if line.startswith("event: "):
            name = line[7:].strip()
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
    return out


async def test_a_page_gets_the_state_then_reports(app: EmulatorApp) -> None:
    async with aiohttp.ClientSession() as session, session.get(app.url + URL) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        got = await events(response, 4)
    assert got[0][0] == "state"
    assert got[0][1]["meter"]["status"] in {"RECOGNITION", "OK", "NOT CONNECTED", "NO DATA"}
    reports = [data for name, data in got if name == "report"]
    assert reports, got
    assert set(reports[-1]) == {"report", "meter", "system"}
    ids = [r["report"]["id"] for r in reports]
    assert ids == sorted(ids)


async def test_many_pages_and_the_live_client_all_keep_receiving(app: EmulatorApp) -> None:
    async with aiohttp.ClientSession() as session:
        live = await session.get(app.url + "/api/v1/live")
        pages = [await session.get(app.url + URL) for _ in range(3)]
        try:
            for page in pages:
                assert [n for n, _ in await events(page, 3)].count("report") >= 1
            # The live client was not evicted by the pages: it still gets live events.
            got = await events(live, 5)
            assert {name for name, _ in got} == {"live"}
        finally:
            for response in (live, *pages):
                response.close()
