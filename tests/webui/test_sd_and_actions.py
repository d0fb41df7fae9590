"""From the browser: an SD card day file is plotted on the Live tab, downloaded (the bytes on
the card) and deleted (gone from the card); an action is defined, run, and its status shown
as the device reports it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from emulator.app import EmulatorApp
from emulator.device.faces.csv_row import HEADER, NAMES
from tests.webui.conftest import ConsoleErrors


def day_file() -> bytes:
    """A day file in the device's 64 columns: three rows, a meter id with a comma in it."""
    rows = [HEADER]
    for n, (moment, power) in enumerate((("10:54:03", "0.5"), ("10:54:18", "1.25"),
                                         ("10:54:33", "0.75")), start=1):
        cells = dict.fromkeys(NAMES, "")
        cells.update(RID=str(n), TIME=f'"2025-01-22T{moment}Z"', MID='"ID, with comma"',
                     IPAP_T=power, IPAN_T="0")
        rows.append(",".join(cells[name] for name in NAMES) + "\n")
    return "".join(rows).encode()


CONTENT = day_file()


def put_file(card: Path, name: str, data: bytes) -> Path:
    card.mkdir(parents=True, exist_ok=True)
    path = card / name
    path.write_bytes(data)
    return path


async def test_an_sd_file_is_downloaded_and_deleted(emulator: EmulatorApp, browser: Any,
                                                    tmp_path: Path) -> None:
    card = emulator.config.data_dir / "sdcard"
    path = await asyncio.to_thread(put_file, card, "20250122.CSV", CONTENT)
    context = await browser.new_context(viewport={"width": 390, "height": 844},
                                        accept_downloads=True)
    page = await context.new_page()
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/#live")
    await page.get_by_role("button", name="Load today from the SD card").click()
    await page.get_by_text("Showing 3 rows of 20250122.CSV (peak import 1.250 kW).").wait_for()
    await page.get_by_role("button", name="Back to live").wait_for()
    await page.get_by_role("link", name="SD card").click()
    async with page.expect_download() as info:
        await page.get_by_role("link", name="20250122.CSV").click()
    download = await info.value
    saved = tmp_path / "downloaded.csv"
    await download.save_as(saved)
    assert await asyncio.to_thread(saved.read_bytes) == CONTENT
    assert download.suggested_filename == "20250122.CSV"

    await page.get_by_role("button", name="Delete 20250122.CSV").click()
    await page.get_by_role("button", name="Yes, delete").click()
    await page.locator("#tab-sd .feedback.ok", has_text="Deleted 20250122.CSV").wait_for()
    assert not await asyncio.to_thread(path.exists)
    await page.get_by_text("This folder is empty.").wait_for()
    async with aiohttp.ClientSession() as session, session.get(emulator.url + "/sdcard/") as r:
        assert (await r.json())["files"] == []
    await context.close()
    assert errors.errors == []


async def test_an_action_runs_and_its_status_shows(emulator: EmulatorApp, browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/#actions")
    definition = ('{"actions": [{"id": "ping", "requests": [{"http": {"url": "'
                  + emulator.url + '/api/v1/system", "method": "GET"}}]}]}')
    await page.get_by_label("Actions (JSON").fill(definition)
    await page.get_by_role("button", name="Save definition").click()
    await page.get_by_text("Saved: 1 actions.").wait_for()
    await page.get_by_role("button", name="Run ping").click()
    await page.get_by_text("ping done: result 200.").wait_for()
    cells = await page.locator("#action-status tbody tr").first.locator("td").all_text_contents()
    assert cells[0] == "ping" and cells[2] == "200"
    async with aiohttp.ClientSession() as session:
        url = f"{emulator.url}/api/v1/actions/status?id={cells[1]}"
        async with session.get(url) as response:
            (entry,) = await response.json()
    assert (entry["action_id"], str(entry["id"]), entry["code"]) == ("ping", cells[1], 200)
    assert cells[3] == f"{entry['exe_time']} s"
    await page.close()
    assert errors.errors == []
