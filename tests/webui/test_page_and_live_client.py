"""The web page reads its own stream: with the page open in a real browser, an
integration's /api/v1/live client keeps receiving events (the device serves one live client
at a time, and the page must not take it away)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from tests.webui.conftest import screenshot_path

#: How long the live client must keep receiving with the page open (wall seconds).
WATCH = 30.0


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[EmulatorApp]:
    emulator = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data"))
    await emulator.start()
    yield emulator
    await emulator.stop()


async def watch_live(url: str, seconds: float) -> tuple[int, float, bool]:
    """Read /api/v1/live for `seconds`: events received, when the last one came (seconds
    after the start), and whether the stream was ended meanwhile."""
    received, last = 0, 0.0
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with aiohttp.ClientSession() as session, session.get(url + "/api/v1/live") as live:
        while (left := start + seconds - loop.time()) > 0:
            try:
                line = await asyncio.wait_for(live.content.readline(), left)
            except TimeoutError:
                break
            if not line:
                return received, last, True
            if line.startswith(b"event: live"):
                received += 1
                last = loop.time() - start
    return received, last, False


async def test_the_open_page_leaves_the_live_client_alone(app: EmulatorApp,
                                                          browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    watcher = asyncio.get_running_loop().create_task(watch_live(app.url, WATCH))
    await page.goto(app.url + "/")
    # The page shows live values from its stream.
    await page.wait_for_function(
        "document.getElementById('p_in').textContent !== '-'", timeout=20_000)
    shown = float(await page.text_content("#p_in") or "nan")
    assert shown >= 0
    await page.screenshot(path=str(screenshot_path("index-1280x900")))
    received, last, ended = await watcher
    await page.close()
    assert not ended, "the live client's stream was ended while the page was open"
    # Still receiving at the end of the window (the meter reports every second).
    assert received > 1
    assert last > WATCH / 2, (received, last)
    assert errors == []
