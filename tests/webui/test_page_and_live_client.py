"""The web page reads its own stream: with the page open in a real browser (going through
every tab, at desktop and phone size, taking the screenshots CI keeps), an integration's
/api/v1/live client keeps receiving events (the device serves one live client at a time,
and the page must not take it away). The page loads with no console errors, and the tabs
are reached with the keyboard; all text has a contrast of at least 4.5:1
and every control a label."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from emulator.app import EmulatorApp
from tests.webui.conftest import (
    LOW_CONTRAST_JS,
    UNLABELLED_JS,
    ConsoleErrors,
    screenshot_path,
    wait_for_live_values,
)

#: How long the live client must keep receiving with the page open (wall seconds): a
#: duration of observation, not a time limit on anything.
WATCH = 60.0

#: Each tab and what shows that it has loaded.
TABS = {
    "live": "#report_id:not(:text-is('-'))",
    "meter": "[data-path='baudrate']",
    "system": "[data-path='system.host_name']",
    "mqtt": "[data-path='url']",
    "sd": "table.files",
    "actions": "#actions-definition",
    "modbus": "#tab-modbus tbody tr",
    "emulator": "pre.log:not(:empty)",
}
SIZES = ((1280, 900), (390, 844))


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


async def visit_every_tab(page: Any, size: str) -> None:
    for tab, loaded in TABS.items():
        await page.locator(f'nav a[href="#{tab}"]').click()
        await page.locator(f"#tab-{tab}").wait_for(state="visible")
        await page.locator(f"#tab-{tab} {loaded}" if not loaded.startswith("#tab-")
                           else loaded).first.wait_for()
        await page.screenshot(path=str(screenshot_path(f"{tab}-{size}")), full_page=True)
        assert await page.evaluate(LOW_CONTRAST_JS) == [], (tab, size)
        assert await page.evaluate(UNLABELLED_JS) == [], (tab, size)


async def test_the_open_page_leaves_the_live_client_alone(emulator: EmulatorApp,
                                                          browser: Any) -> None:
    watcher = asyncio.get_running_loop().create_task(watch_live(emulator.url, WATCH))
    all_errors: list[str] = []
    for width, height in SIZES:
        page = await browser.new_page(viewport={"width": width, "height": height})
        errors = ConsoleErrors(page)
        await page.goto(emulator.url + "/")
        await wait_for_live_values(page)
        await visit_every_tab(page, f"{width}x{height}")
        await page.goto(emulator.url + "/sd.html")
        await page.locator("table.files").wait_for()
        await page.screenshot(path=str(screenshot_path(f"sd-page-{width}x{height}")),
                              full_page=True)
        all_errors += errors.errors
        await page.close()
    # Keyboard: the nav links are reached with Tab and followed with Enter.
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/")
    for _ in range(4):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.textContent") == "Meter":
            break
    await page.keyboard.press("Enter")
    await page.locator("#tab-meter [data-path='baudrate']").wait_for()
    assert await page.locator("#tab-live").is_hidden()
    received, last, ended = await watcher  # the page stays open until the end of the watch
    all_errors += errors.errors
    await page.close()
    assert not ended, "the live client's stream was ended while the page was open"
    # Still receiving at the end of the window (the meter reports every second).
    assert received > 1
    assert last > WATCH / 2, (received, last)
    assert all_errors == []
