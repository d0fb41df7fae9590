"""The meter line for real: a virtual line in process, a pty, a TCP socket; the supervisor
reconnecting; garbage on a real pty."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tty
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.device.clock import ScaledClock, VirtualClock
from emulator.device.core import Device
from emulator.device.settings.meter import METER_SETTINGS
from emulator.device.settings.views import MeterSettings
from emulator.device.values import Report
from emulator.meter.line import LineClosed, LineUnavailable
from emulator.meter.serial_line import SerialLine
from emulator.meter.serve import PtyMeterServer, TcpMeterServer
from emulator.meter.settings import detect_config, fixed_settings
from emulator.meter.supervisor import LinkSupervisor
from emulator.meter.virtual_line import VirtualLine
from emulator.runtime.backoff import Backoff
from meter_protocols.detect import DetectConfig, IfMode, IfType, ProtocolChoice
from meter_protocols.dsmr.decoder import crc16
from meter_protocols.line import LineSettings, Parity
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from tests.support import ENSOR_MOMENT, build_device, next_report, wait_status

SPEED = 8.0  # the device and the meters run 8x real time in these tests


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(SPEED, ENSOR_MOMENT)


@pytest.fixture
def device(tmp_path: Path, clock: ScaledClock) -> Device:
    return build_device(tmp_path, clock)


def ensor(clock: ScaledClock, seed: int = 1) -> VirtualMeter:
    return VirtualMeter(get_profile("ensor-ers"), seed=seed, start=clock.time())


@contextlib.asynccontextmanager
async def supervised(device: Device, factory: object,
                     backoff: Backoff | None = None) -> AsyncIterator[LinkSupervisor]:
    supervisor = LinkSupervisor(device, factory, backoff or Backoff(0.2, 1.0))  # type: ignore[arg-type]
    task = asyncio.get_running_loop().create_task(supervisor.run())
    try:
        yield supervisor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_virtual_line_reports_at_the_meters_cadence(tmp_path: Path) -> None:
    # On simulated time (VirtualClock): the cadence is the meter's, whatever the machine's
    # load; wall time at a speed-up was not (issue 10: this test was flaky).
    clock = VirtualClock(ENSOR_MOMENT)
    device = build_device(tmp_path, clock)
    line = VirtualLine(VirtualMeter(get_profile("ensor-ers"), seed=1, start=clock.time()),
                       clock)
    reports: list[Report] = []
    device.reports.add_listener(reports.append)
    async with supervised(device, lambda: line):
        await clock.advance(30.0)
        assert device.meter.status.value == "OK"
        assert device.meter.interface.value == "P1"
    steady = reports[2:]
    assert len(steady) >= 20
    assert [r.id for r in steady] == list(range(steady[0].id, steady[0].id + len(steady)))
    for report in steady:
        assert report.interval == pytest.approx(1.0, abs=0.01)  # clock seconds


async def test_a_silent_virtual_meter_gives_no_data_then_ok(device: Device,
                                                             clock: ScaledClock) -> None:
    line = VirtualLine(ensor(clock), clock)
    async with supervised(device, lambda: line):
        await next_report(device)
        await next_report(device)
        line.meter.silent = True
        await wait_status(device, "NO DATA")
        line.meter.silent = False
        await wait_status(device, "OK")


async def test_pty_meter_killed_and_restarted(tmp_path: Path, device: Device,
                                              clock: ScaledClock) -> None:
    link = tmp_path / "p1"
    server = PtyMeterServer(ensor(clock), clock, link)
    await server.start()
    try:
        async with supervised(device, lambda: SerialLine(str(link))):
            await next_report(device)
            await server.stop()
            await wait_status(device, "NOT CONNECTED", "NO DATA")
            server = PtyMeterServer(ensor(clock, seed=2), clock, link)
            await server.start()
            await wait_status(device, "OK")
            report = await next_report(device)
            assert report.reading.identity.meter_id == "20000741"
    finally:
        await server.stop()


async def test_socket_url_reads_a_tcp_meter(device: Device, clock: ScaledClock) -> None:
    server = TcpMeterServer(ensor(clock), clock)
    port = await server.start("127.0.0.1", 0)
    try:
        async with supervised(device, lambda: SerialLine(f"socket://127.0.0.1:{port}")):
            report = await next_report(device)
            assert report.reading.identity.logical_name == "ESR51030712084367"
            await server.stop()
            await wait_status(device, "NOT CONNECTED")
    finally:
        await server.stop()


async def test_unavailable_port_is_not_connected_and_retried(device: Device,
                                                             tmp_path: Path) -> None:
    attempts = 0

    def factory() -> SerialLine:
        nonlocal attempts
        attempts += 1
        return SerialLine(str(tmp_path / "no-such-port"))

    enough = asyncio.Event()

    def counting() -> SerialLine:
        line = factory()
        if attempts >= 3:
            enough.set()
        return line

    async with supervised(device, counting, Backoff(0.05, 0.1)):
        await asyncio.wait_for(enough.wait(), 10)
    assert device.meter.status.value == "NOT CONNECTED"


def write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


async def test_garbage_on_a_real_pty_never_stops_the_reader(device: Device) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    rng = random.Random(3)
    meter = ensor(ScaledClock(1.0, ENSOR_MOMENT))

    async def keep_sending() -> None:
        # Like a P1 meter: a telegram a second (here 5 a second), whoever listens.
        while True:
            due = meter.next_push_at()
            assert due is not None
            await asyncio.to_thread(write_all, master, meter.push(due))
            await asyncio.sleep(0.2)

    sender: asyncio.Task[None] | None = None
    try:
        async with supervised(device, lambda: SerialLine(path)):
            await wait_status(device, "RECOGNITION")
            noise = bytes(rng.randrange(256) for _ in range(3000))
            no_end = b"/" + b"1-0:1.8.1(1)" * 1000  # 13 kB without '!'
            waiter = asyncio.ensure_future(next_report(device, timeout=30))
            await asyncio.sleep(0)  # subscribed before the bytes go out
            # From a thread: the pty holds a few kB and the reader runs on this loop.
            await asyncio.to_thread(write_all, master, noise + no_end + b"\r\n")
            sender = asyncio.ensure_future(keep_sending())
            report = await waiter
    finally:
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        os.close(master)
    assert report.reading.identity.meter_id == "20000741"
    assert 44258.0 <= report.reading.values["1.8.1"] < 44300.0  # the meter's register
    # The garbage was counted; as what depends on the decoder the search had active when
    # it arrived (DSMR: oversize/truncated, DLMS: unknown format...).
    assert sum(device.meter.problems.values()) >= 1


async def test_reconfiguration_reaches_the_real_port() -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    line = SerialLine(path)
    try:
        await line.open(LineSettings())
        await line.reconfigure(LineSettings(9600, 8, Parity.NONE, 2.0))
        assert line._serial is not None
        assert line._serial.baudrate == 9600
        # A pty refuses 7E1; the line carries on at the baud rate it can set.
        await line.reconfigure(LineSettings(2400, 7, Parity.EVEN, 1.0))
        assert line._serial.baudrate == 2400
        os.write(master, b"still readable")
        assert (await asyncio.wait_for(line.read(), 2)).data == b"still readable"
    finally:
        await line.close()
        os.close(master)
        os.close(slave)


async def test_reading_a_closed_line_raises() -> None:
    line = SerialLine("/dev/null-not-a-port")
    with pytest.raises(LineClosed):
        await line.read()
    with pytest.raises(LineUnavailable):
        await line.open(LineSettings())


def test_backoff_doubles_up_to_its_limit() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5


def meter_view(**changes: object) -> MeterSettings:
    return MeterSettings.from_json(METER_SETTINGS.merge(METER_SETTINGS.defaults(), changes))


def test_fixed_settings_from_the_meter_settings() -> None:
    base = {"baudrate": 9600, "parity": "even", "stop_bits": "1", "rx_invert": False,
            "if_type": "p1"}
    assert str(fixed_settings(meter_view(**base))) == "9600 7E1"
    assert str(fixed_settings(meter_view(**{**base, "baudrate": 2400, "if_type": "mbus"}))) \
        == "2400 8E1"
    assert str(fixed_settings(meter_view(**{**base, "parity": "none", "stop_bits": "2"}))) \
        == "9600 8N2"


def test_the_detector_config_is_built_at_the_edge_from_the_typed_view() -> None:
    config = detect_config(meter_view(auto_baudrate=False, baudrate=2400, parity="even",
                                      stop_bits="1.5", if_type="mbus", protocol="hdlc",
                                      if_mode="push", rx_invert=True))
    assert config == DetectConfig(False, IfType.MBUS, ProtocolChoice.HDLC, IfMode.PUSH, 2400,
                                  Parity.EVEN, 1.5, True)
    assert detect_config(meter_view()) == DetectConfig()


def with_tariff(telegram: bytes, tariff: str) -> bytes:
    """The same telegram with another tariff text and a CRC that fits it."""
    text = telegram.decode("latin-1")
    body = text[:text.index("!") + 1].replace("0-0:96.14.0(0001)", f"0-0:96.14.0({tariff})")
    return (body + f"{crc16(body):04X}\r\n").encode("latin-1")


async def test_after_any_malformed_frame_the_next_valid_ones_report(device: Device) -> None:
    # Frames that once escaped the decoder (a tariff of '²', of 5000 digits) and killed
    # the link for good, each with a valid CRC, between valid telegrams on a real pty.
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    meter = ensor(ScaledClock(1.0, ENSOR_MOMENT))

    def telegram() -> bytes:
        due = meter.next_push_at()
        assert due is not None
        return meter.push(due)

    try:
        async with supervised(device, lambda: SerialLine(path)):
            await wait_status(device, "RECOGNITION")
            for bad in ("²", "9" * 5000, "", "(1)"):
                waiter = asyncio.ensure_future(next_report(device, timeout=30))
                await asyncio.sleep(0)
                await asyncio.to_thread(write_all, master, with_tariff(telegram(), bad))
                good = 0
                while not waiter.done() and good < 30:
                    await asyncio.to_thread(write_all, master, telegram())
                    good += 1
                    await asyncio.wait({waiter}, timeout=0.3)
                report = await waiter
                assert report.reading.identity.meter_id == "20000741"
            assert device.meter.status.value == "OK"
            assert device.meter.failures == 0  # the decoder itself never failed
    finally:
        os.close(master)
