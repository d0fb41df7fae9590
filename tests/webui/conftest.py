"""A real Chromium (Debian's package) driven by Playwright; never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from tests.conftest import PROJECT_ROOT

#: Screenshots the browser tests take, kept by CI as artifacts.
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"


def chromium_path() -> str:
    path = os.environ.get("WHATWATT_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing under CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    executable = chromium_path()
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


#: Routes whose 404 is an answer, not a fault: no actions defined yet (the device's own
#: 404), and the control routes of issue 16 in a build that lacks them (the panel shows
#: "not available in this build"). Chromium logs every 4xx as a console error.
EXPECTED_404: Final = frozenset({"/api/v1/actions", "/emulator/v1/state"})


class ConsoleErrors:
    """Console errors and uncaught exceptions of a page, less the expected 404s."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = urlsplit(message.location.get("url") or "")
        if "status of 404" in message.text and url.path in EXPECTED_404:
            return
        self.errors.append(f"{message.text} ({message.location.get('url')})")


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[EmulatorApp]:
    """A device with a virtual meter (a report every second), its SD card, no mDNS."""
    app = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data", mdns=False))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def wait_for_live_values(page: Any) -> None:
    await page.wait_for_function(
        "document.getElementById('report_id').textContent !== '-'")


#: Text whose contrast with what is behind it is below WCAG AA (4.5:1), as "text (ratio)".
LOW_CONTRAST_JS = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    const text = walker.currentNode.textContent.trim();
    if (!text || !el || !el.checkVisibility() || el.closest('button:disabled')) continue;
    const fg = lum(rgb(getComputedStyle(el).color).slice(0, 3)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) out.push(text.slice(0, 40) + ' (' + ratio.toFixed(2) + ')');
  }
  return out;
}"""


#: Visible form controls and buttons with no accessible name.
UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.checkVisibility())
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 80))"""
