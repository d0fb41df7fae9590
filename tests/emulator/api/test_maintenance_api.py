"""Reboot, factory reset and firmware upload over HTTP (without the composition root the
core restarts at once; tests/emulator/test_app_reboot.py covers the real reboot)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.device.core import Device
from emulator.device.firmware import FirmwareSlot, make_image
from meter_protocols.readings import FrameDecoded, Interface
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device, ensor_readings


def feed(device: Device, clock: ManualClock, count: int) -> None:
    device.link_listening(Interface.P1, "test")
    for reading in ensor_readings(count):
        clock.advance(1.0)
        device.on_event(FrameDecoded(reading, 900), Interface.P1)


def upload_form(data: bytes, name: str = "file") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(name, data, filename="upgrade_file.bin",
                   content_type="application/octet-stream")
    return form


async def test_reboot_answers_204_and_starts_a_new_boot(client: TestClient, device: Device,  # type: ignore[type-arg]
                                                        clock: ManualClock) -> None:
    feed(device, clock, 3)
    before = await (await client.get("/api/v1/report")).json()
    clock.advance(60)
    response = await client.post("/api/v1/reboot")
    assert response.status == 204
    assert await response.read() == b""
    after = await (await client.get("/api/v1/report")).json()
    assert after["system"]["boot_id"] != before["system"]["boot_id"]
    assert after["system"]["time_since_boot"] == 0
    assert after["report"]["id"] == 0
    system = await (await client.get("/api/v1/system")).json()
    assert system["device"]["last_reboot"]["time"] == "11:55:05"
    assert (await client.get("/api/v1/reboot")).status == 405


async def test_a_reboot_ends_the_live_stream(client: TestClient, device: Device) -> None:  # type: ignore[type-arg]
    stream = await client.get("/api/v1/live")
    assert device.reports.subscribers == 1  # subscribed before the headers went out
    await client.post("/api/v1/reboot")
    assert await asyncio.wait_for(stream.content.read(), 5) == b""


async def test_restore_brings_factory_settings_and_keeps_the_id(client: TestClient,  # type: ignore[type-arg]
                                                                device: Device) -> None:
    await client.put("/api/v1/settings", json={"system": {"name": "Plant A"},
                                               "services": {"report_interval": 5}})
    await client.put("/api/v1/eth/settings", json={"enable": False})
    old_boot = device.boot.boot_id
    response = await client.post("/api/v1/restore")
    assert response.status == 204
    settings = await (await client.get("/api/v1/settings")).json()
    assert settings["system"]["name"] == "" and settings["services"]["report_interval"] == 30
    assert (await (await client.get("/api/v1/eth/settings")).json())["enable"] is True
    assert (await (await client.get("/api/v1/wifi/sta/settings")).json())["enable"] is False
    system = await (await client.get("/api/v1/system")).json()
    assert system["device"]["id"] == "A842E39F8124"
    assert device.boot.boot_id != old_boot


@pytest.fixture
def slot(tmp_path: Path) -> FirmwareSlot:
    return FirmwareSlot(tmp_path / "firmware", "1.10.0", "WW_Go_1.2", max_image=50_000)


@pytest.fixture
async def fw_client(aiohttp_client: ClientFactory, tmp_path: Path, clock: ManualClock,
                    slot: FirmwareSlot) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(build_device(tmp_path, clock, firmware=slot)))


async def test_load_shows_the_update_state(fw_client: TestClient) -> None:  # type: ignore[type-arg]
    response = await fw_client.get("/load")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert await response.text() == "state: idle\nfirmware: 1.10.0\n"


async def test_a_valid_image_is_installed_and_booted(fw_client: TestClient,  # type: ignore[type-arg]
                                                     tmp_path: Path) -> None:
    old_boot = (await (await fw_client.get("/api/v1/report")).json())["system"]["boot_id"]
    image = make_image("1.11.0", bytes(range(256)) * 100, model="WW_Go_1.2")
    response = await fw_client.post("/load", data=upload_form(image))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert await response.text() == "Firmware 1.11.0 verified, rebooting\n"
    system = await (await fw_client.get("/api/v1/system")).json()
    assert system["device"]["firmware"] == "1.11.0"
    report = await (await fw_client.get("/api/v1/report")).json()
    assert report["system"]["boot_id"] != old_boot
    assert await (await fw_client.get("/load")).text() == "state: idle\nfirmware: 1.11.0\n"
    assert (tmp_path / "firmware" / "installed.json").exists()


@pytest.mark.parametrize(("data", "status", "words"), [
    (b"\xe9\x05\x02\x20 an ESP32 image" + bytes(3000), 400, "not a whatwatt"),
    (b"", 400, "empty file"),
    (make_image("1.11.0", b"x")[:-1] + b"y", 400, "SHA-256"),
    (make_image("1.11.0", b"x" * 60_000), 413, "larger than 50000"),  # found while streaming
    (make_image("1.11.0", b"x" * 200_000), 413, "larger than 50000"),  # by Content-Length
])
async def test_other_uploads_are_refused(fw_client: TestClient, data: bytes, status: int,  # type: ignore[type-arg]
                                         words: str) -> None:
    response = await fw_client.post("/load", data=upload_form(data))
    assert response.status == status
    assert words in await response.text()
    system = await (await fw_client.get("/api/v1/system")).json()
    assert system["device"]["firmware"] == "1.10.0"


async def test_uploads_that_are_not_a_file_field(fw_client: TestClient) -> None:  # type: ignore[type-arg]
    wrong_field = await fw_client.post("/load", data=upload_form(make_image("1.11.0"),
                                                                 name="firmware"))
    assert wrong_field.status == 400
    assert "'file'" in await wrong_field.text()
    not_multipart = await fw_client.post("/load", data=make_image("1.11.0"),
                                         headers={"Content-Type": "application/octet-stream"})
    assert not_multipart.status == 415


async def test_busy_while_a_reboot_is_pending(aiohttp_client: ClientFactory, tmp_path: Path,
                                              clock: ManualClock, slot: FirmwareSlot) -> None:
    device = build_device(tmp_path, clock, firmware=slot)
    reboots: list[int] = []
    device.set_reboot_handler(lambda: reboots.append(1))  # a reboot that takes its time
    client = await aiohttp_client(create_app(device))
    first = await client.post("/load", data=upload_form(make_image("1.11.0")))
    assert first.status == 200 and reboots == [1]
    second = await client.post("/load", data=upload_form(make_image("1.12.0")))
    assert second.status == 503
    assert "rebooting" in await second.text()
    assert "pending: 1.11.0" in await (await client.get("/load")).text()


@pytest.fixture
def full_disk(tmp_path: Path) -> None:
    """The update slot's file is /dev/full: every write fails with ENOSPC."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    (tmp_path / "firmware").mkdir(exist_ok=True)
    (tmp_path / "firmware" / "ota.bin").symlink_to("/dev/full")


@pytest.mark.usefixtures("full_disk")
async def test_a_full_disk_is_503(fw_client: TestClient) -> None:  # type: ignore[type-arg]
    response = await fw_client.post("/load", data=upload_form(make_image("1.11.0",
                                                                         b"z" * 40_000)))
    assert response.status == 503
    assert "failed" in await (await fw_client.get("/load")).text()
