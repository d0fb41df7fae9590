"""Reboot requests, restart and factory reset in the core."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.device.core import Device
from emulator.device.firmware import FirmwareSlot, make_image
from emulator.device.hub import SubscriptionEnded
from emulator.device.system_info import system_info
from meter_protocols.readings import FrameDecoded, Interface
from tests.support import DEVICE_ID, ManualClock, build_device, ensor_readings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(tmp_path: Path, clock: ManualClock) -> Device:
    return build_device(tmp_path, clock)


def test_without_a_handler_a_reboot_happens_at_once(device: Device, clock: ManualClock) -> None:
    restarts: list[str] = []
    device.on_restart(lambda: restarts.append(device.boot.boot_id))
    old = device.boot.boot_id
    clock.advance(50)
    device.request_reboot("test")
    assert restarts == [device.boot.boot_id] and device.boot.boot_id != old
    assert device.uptime() == 0 and not device.reboot_pending


def test_with_a_handler_the_reboot_is_pending_until_restart(device: Device) -> None:
    asked: list[int] = []
    device.set_reboot_handler(lambda: asked.append(1))
    old = device.boot.boot_id
    device.request_reboot("first")
    device.request_reboot("second")  # the same reboot
    assert asked == [1] and device.reboot_pending and device.boot.boot_id == old
    device.restart()
    assert not device.reboot_pending and device.boot.boot_id != old


async def test_a_restart_ends_open_report_streams(device: Device, clock: ManualClock) -> None:
    subscription = device.reports.subscribe()
    device.restart()
    with pytest.raises(SubscriptionEnded):
        await subscription.get()
    assert device.reports.subscribers == 0


def test_a_restart_counts_reports_from_one_and_updates_last_reboot(device: Device,
                                                                   clock: ManualClock) -> None:
    for reading in ensor_readings(3):
        clock.advance(1)
        device.on_event(FrameDecoded(reading, 900), Interface.P1)
    clock.advance(3600)
    device.restart()
    info = system_info(device)
    assert info["device"]["time_since_boot"] == 0
    assert info["device"]["last_reboot"]["time"] == "12:54:05"  # 11:54:02 + 3 s + 1 h
    clock.advance(1)
    device.on_event(FrameDecoded(ensor_readings(1)[0], 900), Interface.P1)
    assert device.latest is not None and device.latest.id == 1


def test_the_new_firmware_runs_after_the_restart(tmp_path: Path, clock: ManualClock) -> None:
    slot = FirmwareSlot(tmp_path / "fw", "1.10.0", "WW_Go_1.2")
    device = build_device(tmp_path, clock, firmware=slot)
    slot.begin()
    slot.feed(make_image("1.11.0", b"abc"))
    slot.finish()
    assert system_info(device)["device"]["firmware"] == "1.10.0"
    device.restart()
    assert system_info(device)["device"]["firmware"] == "1.11.0"
    # ... and at the next start of the process
    again = build_device(tmp_path, clock, firmware=FirmwareSlot(tmp_path / "fw", "1.10.0",
                                                                "WW_Go_1.2"))
    assert again.identity.firmware == "1.11.0"


async def test_factory_reset_keeps_the_identity(tmp_path: Path, device: Device) -> None:
    await device.settings.aput("settings", {"system": {"name": "Plant A", "protection": True,
                                                "password": "secret12"}})
    await device.settings.aput("meter", {"conv_factor": 3})
    await device.factory_reset()
    assert device.settings.get("settings")["system"]["password"] == ""
    assert device.settings.get("meter")["conv_factor"] == 1
    assert device.identity.device_id == DEVICE_ID
    assert system_info(device)["wifi"]["status"] == "Disabled"
