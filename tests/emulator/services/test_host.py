"""The services' seat: the composition root starts services after the HTTP server, stops
them in reverse order, restarts them on a reboot; a service that fails is a status on the
board and one log line, never the device's end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.core import Device
from emulator.device.service_status import ServiceState
from emulator.services.base import LoopService
from tests.support import next_report

EVENTS: list[str] = []


class Recorder:
    """A service that notes its starts and stops, in order with the others."""

    def __init__(self, device: Device, name: str) -> None:
        self.device = device
        self.name = name

    async def start(self) -> None:
        EVENTS.append(f"start {self.name}")
        self.device.services.set(self.name, self.device.services.get(self.name))

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")


class BrokenAtStart:
    name = "broken"

    def __init__(self, device: Device) -> None:
        self.device = device

    async def start(self) -> None:
        raise OSError("the broken service cannot open its socket")

    async def stop(self) -> None:
        EVENTS.append("stop broken")


class Flaky(LoopService):
    """Fails twice, then runs."""

    name = "flaky"
    backoff_first = 0.01
    backoff_limit = 0.02
    runs = 0

    async def run(self) -> None:
        type(self).runs += 1
        if type(self).runs <= 2:
            raise ConnectionRefusedError("the peer is not there yet")
        self.mark_running("connected", peer="127.0.0.1")
        await asyncio.Event().wait()


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[EmulatorApp]:
    EVENTS.clear()
    Flaky.runs = 0
    emulator = EmulatorApp(
        AppConfig(http_port=0, data_dir=tmp_path / "data", speed=20),
        services=[lambda d: Recorder(d, "first"), BrokenAtStart, Flaky,
                  lambda d: Recorder(d, "last")])
    await emulator.start()
    yield emulator
    await emulator.stop()


async def wait_state(app: EmulatorApp, name: str, state: ServiceState) -> None:
    reached = asyncio.get_running_loop().create_future()

    def listener(service: str, status: object) -> None:
        if service == name and app.device.services.get(name).state is state \
                and not reached.done():
            reached.set_result(None)
    remove = app.device.services.subscribe(listener)
    try:
        if app.device.services.get(name).state is not state:
            await asyncio.wait_for(reached, 10)
    finally:
        remove()


async def test_services_start_in_order_and_a_broken_one_is_a_status(
        app: EmulatorApp, caplog: pytest.LogCaptureFixture) -> None:
    assert EVENTS == ["start first", "start last"]
    broken = app.device.services.get("broken")
    assert broken.state is ServiceState.FAILED
    assert "cannot open its socket" in broken.detail
    # The device keeps serving.
    async with aiohttp.ClientSession() as session, \
            session.get(app.url + "/api/v1/system") as response:
        assert response.status == 200
    assert (await next_report(app.device)).id >= 1


async def test_a_loop_service_retries_with_backoff_and_logs_once(
        app: EmulatorApp, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await wait_state(app, "flaky", ServiceState.RUNNING)
    status = app.device.services.get("flaky")
    assert status.failures == 2
    assert status.facts["peer"] == "127.0.0.1"
    records = caplog.get_records("setup") + caplog.records
    lines = [r for r in records if "flaky failed" in r.getMessage()]
    assert len(lines) == 1  # the repeat was counted, not logged
    assert app.device.identity.device_id in lines[0].getMessage()


async def test_a_reboot_stops_and_restarts_every_service(app: EmulatorApp) -> None:
    await wait_state(app, "flaky", ServiceState.RUNNING)
    EVENTS.clear()
    async with aiohttp.ClientSession() as session, \
            session.post(app.url + "/api/v1/reboot") as response:
        assert response.status == 204
    await wait_state(app, "flaky", ServiceState.STOPPED)
    await wait_state(app, "flaky", ServiceState.RUNNING)
    assert EVENTS == ["stop last", "stop broken", "stop first", "start first", "start last"]
    assert app.device.services.get("broken").state is ServiceState.FAILED
