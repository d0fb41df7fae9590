"""With protection on, the page works once the browser has answered the device's challenge
(Playwright's http_credentials is the credentials prompt), and the page keeps nothing of
the credentials in its own storage."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from emulator.app import EmulatorApp
from tests.webui.conftest import ConsoleErrors, wait_for_live_values

PASSWORD = "correct horse"


async def test_the_page_works_behind_the_password(emulator: EmulatorApp, browser: Any) -> None:
    basic = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    async with aiohttp.ClientSession() as session:
        body = {"system": {"protection": True, "password": PASSWORD}}
        async with session.put(emulator.url + "/api/v1/settings", json=body) as response:
            assert response.status == 200
        async with session.get(emulator.url + "/api/v1/system") as response:
            assert response.status == 401  # protection is on
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900},
        http_credentials={"username": "admin", "password": PASSWORD})
    page = await context.new_page()
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/")
    await wait_for_live_values(page)  # the UI stream answers
    await page.get_by_role("link", name="System").click()
    host = page.get_by_label("Host name")
    await host.fill("meter-cellar")
    form = page.locator('form[data-url="/api/v1/settings"]')
    await form.get_by_role("button", name="Save").click()
    await form.locator(".feedback.ok", has_text="Saved.").wait_for()
    async with aiohttp.ClientSession(headers={"Authorization": basic}) as session, \
            session.get(emulator.url + "/api/v1/settings") as response:
        assert (await response.json())["system"]["host_name"] == "meter-cellar"
    stored = await page.evaluate("""() => JSON.stringify([
        Object.entries(localStorage), Object.entries(sessionStorage)])""")
    assert stored == "[[],[]]"
    await context.close()
    assert errors.errors == []
