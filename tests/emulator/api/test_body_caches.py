"""The per-second and per-report caches of /api/v1/report and /api/v1/system serve the bytes
a fresh encoding would give, and follow every change at once."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from aiohttp.test_utils import TestClient

from emulator.api.common import dumps, encode
from emulator.device import service_status
from emulator.device.core import Device
from emulator.device.service_status import ServiceState, ServiceStatus
from emulator.device.system_info import system_info
from meter_protocols.readings import FrameDecoded, Interface
from tests.support import ManualClock, ensor_readings


async def test_system_follows_each_of_its_owners_at_once(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    """Within one second, a change of any owner of the object (the meter link, the radios,
    the board, a service, the licence) shows in the very next answer."""
    async def body() -> bytes:
        response = await client.get("/api/v1/system")
        assert response.status == 200
        return await response.read()

    device.link_listening(Interface.P1, "test")
    readings = ensor_readings(2)
    changes: list[Callable[[], object]] = [
        lambda: device.on_event(FrameDecoded(readings[0], 900), Interface.P1),
        lambda: device.on_event(FrameDecoded(readings[1], 900), Interface.P1),
        lambda: device.link_lost("unplugged"),
        lambda: device.hardware.set_wifi(rssi=device.hardware.wifi.rssi - 7),
        lambda: device.hardware.set_ethernet(up=not device.hardware.ethernet.up),
        lambda: setattr(device.hardware, "usb_powered", False),
        lambda: device.services.set(service_status.SD_CARD, ServiceStatus(
            ServiceState.RUNNING, facts=MappingProxyType({"size": 123, "installed": True}))),
        lambda: setattr(device, "license_type", "FREE"),
    ]
    previous = await body()
    for change in changes:
        change()
        now = await body()
        assert now == encode(dumps(system_info(device)))
        assert now != previous, change
        previous = now


async def test_system_follows_the_clock_and_the_settings_at_once(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    async def body() -> bytes:
        response = await client.get("/api/v1/system")
        assert response.status == 200
        return await response.read()

    first = await body()
    assert first == encode(dumps(system_info(device)))
    assert await body() == first
    clock.advance(0.4)  # the same second (the manual clock starts on a whole second)
    assert await body() == first
    clock.advance(0.7)
    later = await body()
    assert later != first and later == encode(dumps(system_info(device)))
    answer = await client.post("/api/v1/settings", json={"system": {"name": "renamed"}})
    assert answer.status == 200, await answer.text()
    renamed = await body()
    assert b'"name":"renamed"' in renamed and renamed == encode(dumps(system_info(device)))


async def test_report_system_part_follows_each_second(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    async def system_part() -> dict[str, Any]:
        body: dict[str, Any] = await (await client.get("/api/v1/report")).json()
        return body["system"]  # type: ignore[no-any-return]

    first = await system_part()
    clock.advance(0.4)
    assert await system_part() == first
    clock.advance(0.7)
    later = await system_part()
    assert later["time_since_boot"] == first["time_since_boot"] + 1
    assert later["date_time_utc"] != first["date_time_utc"]
