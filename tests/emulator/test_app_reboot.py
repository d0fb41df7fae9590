"""The composition root carries out reboots: the process and its HTTP server stay, the
meter link is stopped and started again, the core begins a new boot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.firmware import make_image
from tests.support import next_report


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[EmulatorApp]:
    app = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data", speed=20))
    await app.start()
    yield app
    await app.stop()


def restarted(app: EmulatorApp) -> asyncio.Future[str]:
    """A future that gets the new boot id at the next restart."""
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def done() -> None:
        if not future.done():
            future.set_result(app.device.boot.boot_id)
    remove = app.device.on_restart(done)
    future.add_done_callback(lambda _: remove())
    return future


async def test_a_reboot_restarts_the_meter_link(emulator: EmulatorApp) -> None:
    while (await next_report(emulator.device)).id < 3:
        pass
    old_boot = emulator.device.boot.boot_id
    old_link = emulator._link_task
    reboot = restarted(emulator)
    async with aiohttp.ClientSession() as session:
        async with session.post(emulator.url + "/api/v1/reboot") as response:
            assert response.status == 204
        new_boot = await asyncio.wait_for(reboot, 10)
        report = await next_report(emulator.device)
        async with session.get(emulator.url + "/api/v1/report") as response:
            body = await response.json()
    assert new_boot != old_boot
    assert report.id == 1  # counted from zero again, by a new meter link
    assert old_link is not None and old_link.done()
    assert emulator._link_task is not None and emulator._link_task is not old_link
    assert not emulator._link_task.done()
    assert body["system"]["boot_id"] == new_boot


async def test_a_firmware_upload_reboots_into_the_new_version(emulator: EmulatorApp,
                                                              tmp_path: Path) -> None:
    reboot = restarted(emulator)
    form = aiohttp.FormData()
    form.add_field("file", make_image("1.11.0", b"\x00" * 4096), filename="fw.bin")
    async with aiohttp.ClientSession() as session:
        async with session.post(emulator.url + "/load", data=form) as response:
            assert response.status == 200
            assert await response.text() == "Firmware 1.11.0 verified, rebooting\n"
        await asyncio.wait_for(reboot, 10)
        async with session.get(emulator.url + "/api/v1/system") as response:
            system = await response.json()
    assert system["device"]["firmware"] == "1.11.0"
    # A new process on the same data dir runs it too.
    again = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data"))
    assert again.device.identity.firmware == "1.11.0"
