"""Reboot, factory reset, firmware upload, protection and licence, observed over HTTP on the
real program started through its CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from requests.auth import HTTPDigestAuth

from emulator.device.firmware import make_image
from tests.conftest import program
from tests.e2e.conftest import device_url, get_json, live_events, wait_for_status

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Pa55word"


async def wait_for_new_boot(session: aiohttp.ClientSession, url: str, old: str,
                            limit: float = 10.0) -> dict[str, Any]:
    """Poll /api/v1/report (a remote process offers nothing to await) until the boot id
    changes; the report of the new boot."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        try:
            report: dict[str, Any] = await get_json(session, url + "/api/v1/report")
        except aiohttp.ClientConnectionError:
            report = {"system": {"boot_id": old}}  # down for a moment is allowed
        if report["system"]["boot_id"] != old:
            return report
        assert loop.time() < deadline, "no new boot"
        await asyncio.sleep(0.05)


async def test_reboot_over_http(spawn: Callable[..., Any], tmp_path: Path) -> None:
    _, url = await device_url(spawn, tmp_path, "--speed", "5")
    async with aiohttp.ClientSession() as session:
        await live_events(session, url, 5)  # five reports in this boot
        before = await get_json(session, url + "/api/v1/report")
        system_before = await get_json(session, url + "/api/v1/system")
        async with session.post(url + "/api/v1/reboot") as response:
            assert response.status == 204
            assert await response.read() == b""
        after = await wait_for_new_boot(session, url, before["system"]["boot_id"])
        system_after = await get_json(session, url + "/api/v1/system")
        await wait_for_status(session, url, {"OK"})  # the meter link came back
    assert after["system"]["time_since_boot"] < before["system"]["time_since_boot"]
    assert after["report"]["id"] < before["report"]["id"]
    assert system_after["device"]["time_since_boot"] < system_before["device"]["time_since_boot"]
    reboot_after = system_after["device"]["last_reboot"]
    reboot_before = system_before["device"]["last_reboot"]
    assert (reboot_after["date"], reboot_after["time"]) > (reboot_before["date"],
                                                           reboot_before["time"])
    assert system_after["device"]["id"] == system_before["device"]["id"]


async def test_restore_over_http_and_across_a_restart(spawn: Callable[..., Any],
                                                      tmp_path: Path) -> None:
    proc, url = await device_url(spawn, tmp_path)
    async with aiohttp.ClientSession() as session:
        async with session.put(url + "/api/v1/settings", json={
                "system": {"name": "Plant A"}, "services": {"sd": {"enable": True}}}) as r:
            assert r.status == 200
        device_id = (await get_json(session, url + "/api/v1/system"))["device"]["id"]
        boot = (await get_json(session, url + "/api/v1/report"))["system"]["boot_id"]
        async with session.post(url + "/api/v1/restore") as response:
            assert response.status == 204
        await wait_for_new_boot(session, url, boot)
        settings = await get_json(session, url + "/api/v1/settings")
        system = await get_json(session, url + "/api/v1/system")
    assert settings["system"]["name"] == "" and settings["services"]["sd"]["enable"] is False
    assert system["device"]["id"] == device_id
    assert system["wifi"]["status"] == "Disabled"  # the factory Wi-Fi: client off
    assert await proc.stop() == 0
    _, url = await device_url(spawn, tmp_path)
    async with aiohttp.ClientSession() as session:
        again = await get_json(session, url + "/api/v1/wifi/sta/settings")
        assert again["enable"] is False  # still factory after a restart of the process
        assert (await get_json(session, url + "/api/v1/system"))["device"]["id"] == device_id


async def test_firmware_upload_with_curl(spawn: Callable[..., Any], tmp_path: Path) -> None:
    curl = program("curl")
    image = tmp_path / "upgrade_file.bin"
    image.write_bytes(make_image("1.11.0", b"\x5a" * 100_000))
    proc, url = await device_url(spawn, tmp_path)
    async with aiohttp.ClientSession() as session:
        boot = (await get_json(session, url + "/api/v1/report"))["system"]["boot_id"]
        process = await asyncio.create_subprocess_exec(
            curl, "-s", "-i", "-F", f"file=@{image}", url + "/load",
            stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
        assert out.startswith(b"HTTP/1.1 200"), out
        assert out.endswith(b"Firmware 1.11.0 verified, rebooting\n")
        await wait_for_new_boot(session, url, boot)
        system = await get_json(session, url + "/api/v1/system")
        assert system["device"]["firmware"] == "1.11.0"
        async with session.get(url + "/load") as response:
            assert await response.text() == "state: idle\nfirmware: 1.11.0\n"
    assert await proc.stop() == 0
    _, url = await device_url(spawn, tmp_path)
    async with aiohttp.ClientSession() as session:
        system = await get_json(session, url + "/api/v1/system")
    assert system["device"]["firmware"] == "1.11.0"  # kept in the data dir


async def test_protection_with_real_clients(spawn: Callable[..., Any], tmp_path: Path) -> None:
    curl = program("curl")
    _, url = await device_url(spawn, tmp_path, "--device-id", "ECC9FF5C7F14")
    async with aiohttp.ClientSession() as session:
        async with session.put(url + "/api/v1/settings", json={
                "system": {"protection": True, "password": PASSWORD}}) as response:
            assert response.status == 200
        async with session.get(url + "/api/v1/system") as response:
            assert response.status == 401
            assert 'realm="whatwatt-5C7F14"' in response.headers["WWW-Authenticate"]
    process = await asyncio.create_subprocess_exec(
        curl, "-s", "--anyauth", "-u", f":{PASSWORD}", url + "/api/v1/system",
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert b'"ECC9FF5C7F14"' in out

    def with_requests() -> tuple[int, int]:
        good = requests.get(url + "/api/v1/wifi/scan", auth=HTTPDigestAuth("", PASSWORD),
                            timeout=10)
        bad = requests.get(url + "/api/v1/wifi/scan", auth=HTTPDigestAuth("", "nope"),
                           timeout=10)
        return good.status_code, bad.status_code

    assert await asyncio.to_thread(with_requests) == (200, 401)


async def test_free_licence_and_ethernet_cable(spawn: Callable[..., Any],
                                              tmp_path: Path) -> None:
    _, url = await device_url(spawn, tmp_path, "--license", "free", "--ethernet")
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/api/v1/report") as response:
            assert response.status == 404
            assert await response.text() == "License required"
        async with session.get(url + "/api/v1/live") as response:
            assert response.status == 200
            async for line in response.content:
                if line.startswith(b"data: "):
                    break
        system = await get_json(session, url + "/api/v1/system")
        assert system["device"]["license"] == {"type": "FREE"}
        assert system["ethernet"]["status"] == "Up"
        async with session.put(url + "/api/v1/settings",
                               json={"system": {"power_save": True}}) as response:
            assert response.status == 400
