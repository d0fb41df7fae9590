"""The SD-card logger: one row per period into the day file, values that agree with
/api/v1/report, roll-over at local midnight, torn rows cut at start, a full card reported
once and survived, the card's facts in /api/v1/system."""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.api import create_app
from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.core import Device
from emulator.device.faces.csv_row import HEADER, NAMES
from emulator.device.service_status import SD_CARD, ServiceState, ServiceStatus
from emulator.device.settings import sections
from emulator.services.sd_files import CardFiles
from emulator.services.sd_logger import SdLogger
from meter_protocols.readings import FrameDecoded, Interface, MeterReading
from tests.emulator.api.conftest import ClientFactory
from tests.support import ZURICH, ManualClock, build_device, ensor_readings

DAY = "20250122.CSV"


async def board_until(device: Device, check: Callable[[ServiceStatus], bool],
                      timeout: float = 10.0) -> ServiceStatus:
    """Await the SD_CARD status satisfying `check` (checked now, then at every change)."""
    current = device.services.get(SD_CARD)
    if check(current):
        return current
    reached: asyncio.Future[ServiceStatus] = asyncio.get_running_loop().create_future()

    def listener(name: str, status: ServiceStatus) -> None:
        if name == SD_CARD and check(status) and not reached.done():
            reached.set_result(status)

    remove = device.services.subscribe(listener)
    try:
        return await asyncio.wait_for(reached, timeout)
    finally:
        remove()


def rows_at_least(count: int) -> Callable[[ServiceStatus], bool]:
    return lambda s: s.running and int(s.facts.get("rows") or 0) >= count


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


class Rig:
    def __init__(self, device: Device, clock: ManualClock, card: Path,
                 readings: list[MeterReading]) -> None:
        self.device, self.clock, self.card = device, clock, card
        self.readings = readings
        self.logger = SdLogger(device, CardFiles(card))
        device.link_listening(Interface.P1, "test")

    async def tick(self, rows: int | None = None) -> None:
        """One meter frame and one second; awaits the row when `rows` is given."""
        self.device.on_event(FrameDecoded(self.readings.pop(0), 900), Interface.P1)
        self.clock.advance(1.0)
        if rows is not None:
            await board_until(self.device, rows_at_least(rows))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def rig(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Rig]:
    device = build_device(tmp_path / "data", clock)
    await device.settings.aput(sections.SYSTEM, {"services": {"sd": {"enable": True,
                                                              "frequency": 1}}})
    rig = Rig(device, clock, tmp_path / "card", ensor_readings(20))
    yield rig
    await rig.logger.stop()


async def test_rows_every_second_that_agree_with_the_report(
        rig: Rig, aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(create_app(rig.device))
    await rig.logger.start()
    await board_until(rig.device, lambda s: s.running)
    day = rig.card / DAY
    for n in range(1, 6):
        await rig.tick(rows=n)
        rows = read_rows(day)
        assert rows[0] == list(NAMES)
        assert len(rows) == n + 1  # one more row per second
        assert all(len(row) == 64 for row in rows)
        row = dict(zip(NAMES, rows[-1], strict=True))
        body = await (await client.get("/api/v1/report")).json()
        report = body["report"]
        assert row["RID"] == str(report["id"])
        assert row["TIME"] == report["date_time_utc"]
        assert float(row["EAP_T1"]) == report["energy"]["active"]["positive"]["t1"]
        assert float(row["IPAP_T"]) == report["instantaneous_power"]["active"]["positive"][
            "total"]
        assert float(row["V_L2"]) == report["voltage"]["l2"]
        assert row["MSTAT"] == body["meter"]["status"] == "OK"
        assert row["MID"] == body["meter"]["id"]
    status = rig.device.services.get(SD_CARD)
    assert status.facts["file"] == DAY and status.facts["rows"] == 5


async def test_nothing_is_written_before_the_first_report(rig: Rig) -> None:
    await rig.logger.start()
    await board_until(rig.device, lambda s: s.running)
    for _ in range(3):
        rig.clock.advance(1.0)
        await asyncio.sleep(0)
    await rig.tick(rows=1)
    assert len(read_rows(rig.card / DAY)) == 2


async def test_day_files_roll_over_at_local_midnight(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2025, 1, 22, 23, 59, 57, tzinfo=ZURICH).timestamp())
    device = build_device(tmp_path / "data", clock)
    await device.settings.aput(sections.SYSTEM, {"services": {"sd": {"enable": True,
                                                              "frequency": 1}}})
    rig = Rig(device, clock, tmp_path / "card", ensor_readings(8))
    await rig.logger.start()
    try:
        await board_until(device, lambda s: s.running)
        for n in range(1, 6):
            await rig.tick(rows=n)
    finally:
        await rig.logger.stop()
    before, after = read_rows(rig.card / DAY), read_rows(rig.card / "20250123.CSV")
    assert before[0] == after[0] == list(NAMES)
    assert len(before) - 1 == 2 and len(after) - 1 == 3  # 23:59:58, :59 | 00:00, :01, :02


async def test_a_torn_last_row_is_cut_off_at_start(rig: Rig) -> None:
    rig.card.mkdir(parents=True)
    whole = HEADER + "1," + ",".join([""] * 63) + "\n"
    (rig.card / DAY).write_text(whole + '2,"2025-01-22T10:5')
    (rig.card / "20250121.CSV").write_text(HEADER[:30])  # torn header: nothing kept
    (rig.card / "20250120.CSV").write_bytes(whole.encode() + b"\0\0\0\0")  # zeros after a cut
    (rig.card / "NOTES.TXT").write_text("not a day file")
    await rig.logger.start()
    await board_until(rig.device, lambda s: s.running)
    assert (rig.card / DAY).read_text() == whole
    assert (rig.card / "20250121.CSV").read_bytes() == b""
    assert (rig.card / "20250120.CSV").read_text() == whole
    assert (rig.card / "NOTES.TXT").read_text() == "not a day file"
    await rig.tick(rows=1)
    rows = read_rows(rig.card / DAY)
    assert len(rows) == 3 and all(len(r) == 64 for r in rows)


async def test_a_full_card_is_a_status_and_one_log_line(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.card.mkdir(parents=True)
    (rig.card / DAY).symlink_to("/dev/full")  # every write: ENOSPC, from the kernel
    caplog.set_level(logging.INFO, logger="emulator.services")
    await rig.logger.start()
    await board_until(rig.device, lambda s: s.running)
    for lost in range(1, 4):
        await rig.tick()
        status = await board_until(rig.device, lambda s, n=lost: s.facts.get("lost") == n)
        assert status.state is ServiceState.RETRYING
        assert status.facts["full"] is True and "card full" in status.detail
    assert sum("card full" in r.getMessage() for r in caplog.records) == 1
    (rig.card / DAY).unlink()  # room again
    await rig.tick(rows=1)
    status = rig.device.services.get(SD_CARD)
    assert status.running and status.facts["full"] is False
    assert len(read_rows(rig.card / DAY)) == 2
    assert any("works again" in r.getMessage() for r in caplog.records)


async def test_turning_logging_off_and_on_follows_the_settings(rig: Rig) -> None:
    await rig.logger.start()
    await board_until(rig.device, lambda s: s.running)
    await rig.device.settings.aput(sections.SYSTEM, {"services": {"sd": {"enable": False}}})
    status = await board_until(rig.device, lambda s: s.state is ServiceState.DISABLED)
    assert status.facts["installed"] is True  # the card is still there
    await rig.device.settings.aput(sections.SYSTEM, {"services": {"sd": {"enable": True,
                                                                         "frequency": 2}}})
    status = await board_until(rig.device, lambda s: s.running)
    assert "every 2 s" in status.detail
    # recorder_mode is stored and shown; the emulated device (always USB-powered) logs on.
    shown = await rig.device.settings.aput(sections.SYSTEM,
                                           {"services": {"sd": {"recorder_mode": True}}})
    assert shown["services"]["sd"] == {"enable": True, "frequency": 2, "recorder_mode": True}
    status = await board_until(rig.device, lambda s: s.running)
    assert rig.device.settings.services.sd.recorder_mode is True


async def system_sd_card(app: EmulatorApp) -> Any:
    import aiohttp  # noqa: PLC0415

    async with aiohttp.ClientSession() as session, session.get(
            app.url + "/api/v1/system") as response:
        return (await response.json())["sd_card"]


async def test_the_app_publishes_the_card_and_no_card_is_disabled(tmp_path: Path) -> None:
    app = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "with", speed=20))
    await app.start()
    try:
        status = await board_until(app.device, lambda s: s.state is ServiceState.DISABLED)
        assert "off" in status.detail  # services.sd.enable is false by default
        card = await system_sd_card(app)
        assert card == {"installed": True, "type": "SDHC/SDXC", "size": 7618, "speed": 20}
        assert app.device.ports.sd_card is not None
    finally:
        await app.stop()
    bare = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "without", sdcard=False,
                                 speed=20))
    await bare.start()
    try:
        status = await board_until(bare.device, lambda s: s.state is ServiceState.DISABLED)
        assert status.detail == "no SD card"
        assert (await system_sd_card(bare))["installed"] is False
        assert bare.device.ports.sd_card is None
    finally:
        await bare.stop()
