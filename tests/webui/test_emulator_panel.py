"""The Emulator panel steers the virtual meter through the control API (a forced value is
what GET /emulator/v1/meter then reports; a refused one shows the message at its field),
shows the device's log tail, and says which control routes this build lacks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from emulator.app import EmulatorApp
from tests.webui.conftest import ConsoleErrors


@pytest.fixture
def info_logging() -> Iterator[None]:
    """The process logs at INFO (the CLI's default), so the tail has the device's lines."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield
    root.setLevel(level)


async def test_the_panel_steers_the_virtual_meter(info_logging: None, emulator: EmulatorApp,
                                                  browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/#emulator")
    panel = page.locator("#tab-emulator")
    await panel.get_by_label("Force a value: OBIS code or name").fill("1.7.0")
    await panel.get_by_label("Forced value").fill("1234")
    await panel.get_by_role("button", name="Apply to the virtual meter").click()
    await panel.locator(".feedback.ok", has_text="Applied.").wait_for()
    await panel.get_by_text("1.7.0 = 1234").wait_for()
    async with aiohttp.ClientSession() as session:
        async with session.get(emulator.url + "/emulator/v1/meter") as response:
            assert (await response.json())["virtual_meter"]["values"] == {"1.7.0": 1234.0}
        async with session.post(emulator.url + "/emulator/v1/meter",
                                json={"drop_rate": 2}) as response:
            expected = await response.text()
        async with session.get(emulator.url + "/emulator/v1/state") as response:
            has_state = response.status == 200
    drop = panel.get_by_label("Drop rate (0..1 of frames)")
    await drop.fill("2")
    await panel.get_by_role("button", name="Apply to the virtual meter").click()
    message = page.locator("#" + (await drop.get_attribute("aria-describedby") or ""))
    await message.get_by_text(expected).wait_for()
    # The device's own lines, from the log tail.
    await panel.locator("pre.log", has_text="meter status").wait_for()
    faults = panel.locator("section", has=page.get_by_role("heading", name="HTTP faults"))
    if has_state:
        await faults.get_by_role("button", name="Add fault").wait_for()
    else:
        await faults.get_by_text("Not available in this build").wait_for()
    await page.close()
    assert len(errors.errors) == 1 and "status of 400" in errors.errors[0], errors.errors
