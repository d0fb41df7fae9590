"""mDNS advertisement seen by a zeroconf browser in another process, everything on
127.0.0.1: the service's name, host, port, address and TXT; `_modbus._tcp` while the
Modbus server runs; broadcast off and on; a reboot; a name conflict; --no-mdns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.service_status import MDNS, MODBUS, ServiceState
from emulator.services.mdns import SharedZeroconf, mdns_host_name
from tests.emulator.services.test_modbus_server import free_port, wait_modbus
from tests.support import DEVICE_ID

BROWSER = Path(__file__).with_name("mdns_browser.py")
HTTP = "_http._tcp.local."
SERVER = "_server._sub._http._tcp.local."
MODBUS_TYPE = "_modbus._tcp.local."
WEBUI = "whatwatt Go 9F8124 WebUI"
Event = dict[str, Any]


class Browser:
    """The browser process's events, in order."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[Event] = []
        self.untaken: list[Event] = []

    async def next(self, match: Callable[[Event], bool], timeout: float = 30) -> Event:
        """The first event not taken yet that `match`es (waiting for it if need be);
        events arrive in any order between services and subtypes."""
        assert self.process.stdout is not None
        for waiting in self.untaken:
            if match(waiting):
                self.untaken.remove(waiting)
                return waiting
        try:
            async with asyncio.timeout(timeout):
                while True:
                    line = await self.process.stdout.readline()
                    assert line, "the browser ended"
                    event: Event = json.loads(line)
                    self.seen.append(event)
                    if match(event):
                        return event
                    self.untaken.append(event)
        except TimeoutError:
            raise AssertionError(f"not seen; the browser saw {self.seen}") from None


def added(type_: str, name: str) -> Callable[[Event], bool]:
    return lambda e: e["event"] == "added" and e["type"] == type_ and e["name"] == name


def removed(type_: str, name: str) -> Callable[[Event], bool]:
    return lambda e: e["event"] == "removed" and e["type"] == type_ and e["name"] == name


@contextlib.asynccontextmanager
async def browser(*types: str) -> AsyncIterator[Browser]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(BROWSER), *types, stdout=asyncio.subprocess.PIPE)
    events = Browser(process)
    try:
        await events.next(lambda e: e["event"] == "ready")
        yield events
    finally:
        process.terminate()
        await process.wait()


def config(tmp_path: Path, **changes: Any) -> AppConfig:
    fields: dict[str, Any] = {"http_port": 0, "data_dir": tmp_path / "data",
                              "device_id": DEVICE_ID}
    return AppConfig(**(fields | changes))


async def put(app: EmulatorApp, path: str, body: Any) -> None:
    method = "PUT" if "settings" in path else "POST"
    async with aiohttp.ClientSession() as session, \
            session.request(method, app.url + path, json=body) as response:
        assert response.status in (200, 204), await response.text()


async def wait_mdns(app: EmulatorApp, state: ServiceState) -> None:
    board = app.device.services
    reached = asyncio.get_running_loop().create_future()

    def listener(name: str, status: Any) -> None:
        if name == MDNS and status.state is state and not reached.done():
            reached.set_result(None)
    remove = board.subscribe(listener)
    try:
        if board.get(MDNS).state is not state:
            await asyncio.wait_for(reached, 30)
    finally:
        remove()


async def test_a_browser_finds_the_device_and_sees_it_follow_its_settings(
        tmp_path: Path) -> None:
    async with browser(HTTP, SERVER, MODBUS_TYPE) as events:
        app = EmulatorApp(config(tmp_path))
        await app.start()
        try:
            found = await events.next(added(HTTP, f"{WEBUI}.{HTTP}"))
            assert found["server"] == "whatwatt-9F8124.local."
            assert found["port"] == app.port
            assert found["addresses"] == ["127.0.0.1"]
            assert found["txt"] == {"id": DEVICE_ID, "type": "100"}
            # The _server subtype ("Web Site" in browsers).
            await events.next(added(SERVER, f"{WEBUI}.{HTTP}"))

            # Modbus on: _modbus._tcp on its port; off: withdrawn.
            port = free_port()
            await put(app, "/api/v1/settings",
                      {"services": {"modbus": {"enable": True, "port": port}}})
            await wait_modbus(app, ServiceState.RUNNING)
            modbus = await events.next(added(MODBUS_TYPE, f"ModbusTCP Slave 9F8124.{MODBUS_TYPE}"))
            assert modbus["port"] == port
            assert modbus["server"] == "whatwatt-9F8124.local."
            await put(app, "/api/v1/settings", {"services": {"modbus": {"enable": False}}})
            await events.next(removed(MODBUS_TYPE, f"ModbusTCP Slave 9F8124.{MODBUS_TYPE}"))

            # Broadcast off: goodbye packets remove it; on: it is back.
            await put(app, "/api/v1/settings", {"services": {"broadcast": False}})
            await events.next(removed(HTTP, f"{WEBUI}.{HTTP}"))
            await wait_mdns(app, ServiceState.DISABLED)
            await put(app, "/api/v1/settings", {"services": {"broadcast": True}})
            await events.next(added(HTTP, f"{WEBUI}.{HTTP}"))

            # A reboot withdraws and announces again, under the same name.
            await put(app, "/api/v1/reboot", None)
            await events.next(removed(HTTP, f"{WEBUI}.{HTTP}"))
            again = await events.next(added(HTTP, f"{WEBUI}.{HTTP}"))
            assert again["port"] == app.port
        finally:
            await app.stop()
        # A shutdown says goodbye.
        await events.next(removed(HTTP, f"{WEBUI}.{HTTP}"))


async def test_the_host_name_follows_the_settings(tmp_path: Path) -> None:
    async with browser(HTTP) as events:
        app = EmulatorApp(config(tmp_path))
        await app.start()
        try:
            await events.next(added(HTTP, f"{WEBUI}.{HTTP}"))
            await put(app, "/api/v1/settings", {"system": {"host_name": "meter_cellar"}})
            renamed = await events.next(
                lambda e: added(HTTP, f"{WEBUI}.{HTTP}")(e) and e["server"] != (
                    "whatwatt-9F8124.local."))
            assert renamed["server"] == "meter-cellar.local."
        finally:
            await app.stop()


async def test_two_devices_with_one_id_get_distinct_names(tmp_path: Path) -> None:
    """Two emulators with the same id on one network (two zeroconf instances, as two
    processes would have): the second takes "(2)", as mDNS responders do."""
    async with browser(HTTP) as events:
        first = EmulatorApp(config(tmp_path / "a"))
        second = EmulatorApp(config(tmp_path / "b"))
        await first.start()
        try:
            await events.next(added(HTTP, f"{WEBUI}.{HTTP}"))
            await second.start()
            try:
                other = await events.next(added(HTTP, f"{WEBUI} (2).{HTTP}"))
                assert other["port"] == second.port
                await wait_mdns(second, ServiceState.RUNNING)
                assert second.device.services.get(MDNS).facts["name"] == f"{WEBUI} (2)"
            finally:
                await second.stop()
        finally:
            await first.stop()


async def test_devices_of_one_process_share_one_zeroconf(tmp_path: Path) -> None:
    shared = SharedZeroconf(["127.0.0.1"])
    apps = [EmulatorApp(config(tmp_path / str(i), device_id=f"A842E39F812{i}"),
                        zeroconf=shared) for i in range(2)]
    try:
        async with browser(HTTP) as events:
            for app in apps:
                await app.start()
            for i in range(2):
                await events.next(added(HTTP, f"whatwatt Go 9F812{i} WebUI.{HTTP}"))
        assert shared._zc is not None
    finally:
        for app in apps:
            await app.stop()
        await shared.close()


async def test_no_mdns_turns_the_advertiser_off(tmp_path: Path) -> None:
    app = EmulatorApp(config(tmp_path, mdns=False))
    await app.start()
    try:
        assert app.zeroconf is None
        assert MDNS not in app.device.services.all()
        assert app.services.get(MDNS) is None
        assert app.services.get(MODBUS) is not None
    finally:
        await app.stop()


def test_host_names_become_mdns_host_names() -> None:
    assert mdns_host_name("whatwatt_9F8124") == "whatwatt-9F8124.local."
    assert mdns_host_name("meter-1") == "meter-1.local."


def test_avahi_browse_sees_the_device() -> None:
    """avahi-browse would be a second, independent client; it cannot be one here."""
    pytest.skip("avahi-daemon never uses a loopback interface (it needs a non-loopback "
                "multicast interface) and the tests keep mDNS traffic on 127.0.0.1; the "
                "browser in these tests is python-zeroconf in another process")
