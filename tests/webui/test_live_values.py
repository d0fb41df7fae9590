"""The Live tab shows the values of each report as it comes: they change on screen from one
report to the next and are those of /api/v1/report for the same report (same id)."""

from __future__ import annotations

from typing import Any

import aiohttp

from emulator.app import EmulatorApp
from tests.webui.conftest import ConsoleErrors, wait_for_live_values

#: DOM id -> (path in the report, decimals shown): as webui/static/js/live.js shows them.
SHOWN = {
    "p_in": ("instantaneous_power.active.positive.total", 3),
    "p_in_l1": ("instantaneous_power.active.positive.l1", 3),
    "p_in_l2": ("instantaneous_power.active.positive.l2", 3),
    "p_in_l3": ("instantaneous_power.active.positive.l3", 3),
    "p_out": ("instantaneous_power.active.negative.total", 3),
    "v_l1": ("voltage.l1", 2), "v_l2": ("voltage.l2", 2), "v_l3": ("voltage.l3", 2),
    "i_l1": ("current.l1", 2), "i_l2": ("current.l2", 2), "i_l3": ("current.l3", 2),
    "e_in": ("energy.active.positive.total", 3),
    "e_in_t1": ("energy.active.positive.t1", 3), "e_in_t2": ("energy.active.positive.t2", 3),
    "e_out": ("energy.active.negative.total", 3),
}

READ_DOM = """() => {
  const out = {};
  for (const el of document.querySelectorAll('#tab-live [id]')) out[el.id] = el.textContent;
  return out;
}"""


def pick(report: dict[str, Any], path: str) -> Any:
    value: Any = report
    for key in path.split("."):
        value = value[key]
    return value


async def shown_with_report(page: Any, session: aiohttp.ClientSession,
                            url: str) -> tuple[dict[str, str], dict[str, Any]]:
    """What the page shows for a report, and that report as /api/v1/report gave it."""
    for _attempt in range(10):
        async with session.get(url + "/api/v1/report") as response:
            report = (await response.json())["report"]
        await page.wait_for_function(
            f"Number(document.getElementById('report_id').textContent) >= {report['id']}")
        dom: dict[str, str] = await page.evaluate(READ_DOM)
        if dom["report_id"] == str(report["id"]):
            return dom, report
    raise AssertionError("the page never showed the report /api/v1/report gave")


async def test_live_values_follow_the_reports(emulator: EmulatorApp, browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    await page.goto(emulator.url + "/")
    await wait_for_live_values(page)
    first = int(await page.text_content("#report_id") or "0")
    # The page moves on by itself with the next reports (no reload, no click).
    await page.wait_for_function(
        f"Number(document.getElementById('report_id').textContent) >= {first + 2}")
    async with aiohttp.ClientSession() as session:
        dom, report = await shown_with_report(page, session, emulator.url)
    assert int(dom["report_id"]) >= first + 2
    for element, (path, places) in SHOWN.items():
        assert dom[element] == f"{pick(report, path):.{places}f}", element
    assert dom["tariff"] == str(report["tariff"])
    assert dom["when"] == report["date_time_local"]
    # The chart has drawn the reports (its canvas is no longer blank).
    drawn = await page.evaluate("""() => {
      const c = document.getElementById('power-chart');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let ink = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) ink++;
      return ink; }""")
    assert drawn > 0
    await page.close()
    assert errors.errors == []
