"""The device's clock set forward or back (POST /emulator/v1/clock, NTP) never makes the
virtual meter replay the gap nor fall silent: its schedule follows the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.clock import VirtualClock
from emulator.meter.virtual_line import VirtualLine
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.status import MeterStatus
from tests.emulator.meter.detection_sim import T0, ZONE


@pytest.fixture
async def device_on_virtual_time(tmp_path: Path) -> AsyncIterator[tuple[EmulatorApp,
                                                                         VirtualClock]]:
    clock = VirtualClock(T0)
    line = VirtualLine(VirtualMeter(get_profile("ensor-ers"), seed=1, start=T0, zone=ZONE),
                       clock)
    app = EmulatorApp(AppConfig(data_dir=tmp_path, device_id="A842E39F8124", mdns=False),
                      clock, line=line, services=[], http=False)
    await app.start()
    await clock.advance(5)
    assert app.device.meter.status is MeterStatus.OK
    yield app, clock
    await app.stop()


async def test_a_day_forward_sends_no_backlog(
        device_on_virtual_time: tuple[EmulatorApp, VirtualClock]) -> None:
    app, clock = device_on_virtual_time
    before = app.device.meter.frames
    clock.set_time(clock.time() + 86400)
    await clock.advance(5)
    sent = app.device.meter.frames - before
    assert 1 <= sent <= 7  # about one a second, not 86 400 of them
    assert app.device.meter.status is MeterStatus.OK


async def test_an_hour_back_keeps_the_meter_talking(
        device_on_virtual_time: tuple[EmulatorApp, VirtualClock]) -> None:
    app, clock = device_on_virtual_time
    before = app.device.meter.frames
    clock.set_time(clock.time() - 3600)
    await clock.advance(5)
    assert app.device.meter.frames - before >= 3
    assert app.device.meter.status is MeterStatus.OK


@pytest.mark.parametrize("paused_at", [3.0, 20.0])  # while searching, and once locked
async def test_a_pull_meter_is_read_again_after_the_process_was_paused(
        tmp_path: Path, paused_at: float) -> None:
    # SIGSTOP for a minute: every timer of the device fires late at once when it resumes.
    clock = VirtualClock(T0)
    meter = VirtualMeter(get_profile("kamstrup-omnipower"), seed=1, start=T0, zone=ZONE)
    app = EmulatorApp(AppConfig(data_dir=tmp_path, device_id="A842E39F8124", mdns=False),
                      clock, line=VirtualLine(meter, clock), services=[], http=False)
    await app.start()
    try:
        await clock.advance(paused_at)
        clock.stall(60.0)
        await clock.advance(30)
        frames = app.device.meter.frames
        await clock.advance(20)
        assert app.device.meter.status is MeterStatus.OK
        assert app.device.meter.frames > frames  # still polled
    finally:
        await app.stop()
