"""Settings forms: a change made in the form is what the API then returns; a value the
device refuses shows the device's own 400 message next to that field and changes nothing."""

from __future__ import annotations

from typing import Any

import aiohttp

from emulator.app import EmulatorApp
from tests.webui.conftest import ConsoleErrors

SETTINGS = "/api/v1/meter/settings"


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.json()


async def refusal(url: str, body: dict[str, Any]) -> str:
    """The device's 400 message for `body` (nothing is changed by a refused request)."""
    async with aiohttp.ClientSession() as session, session.put(url, json=body) as response:
        assert response.status == 400
        return await response.text()


async def test_a_change_in_the_form_is_stored(emulator: EmulatorApp, browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/#meter")
    before = await get_json(emulator.url + SETTINGS)
    assert before["buffer_size"] != 100 and before["parity"] != "even"
    await page.get_by_label("Buffer size").fill("100")
    await page.get_by_label("Parity").select_option("even")
    await page.get_by_label("Rx invert").check()
    form = page.locator(f'form[data-url="{SETTINGS}"]')
    await form.get_by_role("button", name="Save").click()
    await form.locator(".feedback.ok", has_text="Saved.").wait_for()
    after = await get_json(emulator.url + SETTINGS)
    assert (after["buffer_size"], after["parity"], after["rx_invert"]) == (100, "even", True)
    assert {k: v for k, v in after.items() if k not in ("buffer_size", "parity", "rx_invert")} \
        == {k: v for k, v in before.items() if k not in ("buffer_size", "parity", "rx_invert")}
    await page.close()
    assert errors.errors == []


async def test_a_refused_value_shows_the_device_message(emulator: EmulatorApp,
                                                        browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/#meter")
    before = await get_json(emulator.url + SETTINGS)
    expected = await refusal(emulator.url + SETTINGS, {"baudrate": 7})
    baudrate = page.get_by_label("Baudrate", exact=True)
    await baudrate.fill("7")
    await page.get_by_label("Buffer size").fill("32")  # in the same save: not stored either
    form = page.locator(f'form[data-url="{SETTINGS}"]')
    await form.get_by_role("button", name="Save").click()
    message = page.locator("#" + (await baudrate.get_attribute("aria-describedby") or ""))
    await message.wait_for()
    assert (await message.text_content()) == expected
    assert await baudrate.get_attribute("aria-invalid") == "true"
    assert await form.locator(".feedback.error").count() == 1
    assert await get_json(emulator.url + SETTINGS) == before
    # An encryption key that is not 32 hex digits: the message sits next to the key field.
    key_expected = await refusal(emulator.url + SETTINGS, {"encryption_key": "12AB"})
    await baudrate.fill("115200")
    key = page.get_by_label("Encryption key")
    await key.fill("12AB")
    await form.get_by_role("button", name="Save").click()
    key_message = page.locator("#" + (await key.get_attribute("aria-describedby") or ""))
    await key_message.get_by_text(key_expected).wait_for()
    assert await get_json(emulator.url + SETTINGS) == before
    await page.close()
    # Chromium logs each refused request; the two refusals are the only errors.
    assert len(errors.errors) == 2, errors.errors
    assert all("status of 400" in e and e.endswith(f"{emulator.url}{SETTINGS})")
               for e in errors.errors), errors.errors


async def test_a_refused_firmware_upload_shows_the_device_answer(
        emulator: EmulatorApp, browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/#system")
    firmware = (await get_json(emulator.url + "/api/v1/system"))["device"]["firmware"]
    await page.get_by_label("Firmware image").set_input_files(
        files=[{"name": "not-firmware.bin", "mimeType": "application/octet-stream",
                "buffer": b"this is not a firmware image" * 40}])
    await page.get_by_role("button", name="Upload firmware").click()
    card = page.locator("section", has=page.get_by_role("heading", name="Firmware"))
    answer = card.locator(".feedback.error")
    await answer.wait_for()
    assert (await answer.text_content() or "").startswith("Invalid firmware: ")
    assert await card.get_by_label("Upload progress").get_attribute("value") == "100"
    async with aiohttp.ClientSession() as session, session.get(emulator.url + "/load") as r:
        status = await r.text()
    assert "state: failed" in status and f"firmware: {firmware}\n" in status  # unchanged
    await page.close()
    assert len(errors.errors) == 1 and "status of 400" in errors.errors[0], errors.errors
