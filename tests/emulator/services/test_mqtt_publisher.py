"""The MQTT publisher against amqtt's broker in this process: templated messages, login,
status in /api/v1/system, failures logged once, a broker restart, the licence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from emulator.device.core import Device
from emulator.device.service_status import MQTT, ServiceState
from emulator.device.settings import sections
from emulator.device.system_info import system_info
from emulator.device.values import num
from emulator.services.mqtt import is_due
from meter_protocols.readings import FrameDecoded, Interface
from tests.emulator.services.mqtt_support import (
    QuickPublisher,
    amqtt_broker,
    free_port,
    mqtt_settings,
    pumping,
    subscriber,
    wait_mqtt,
)
from tests.support import ManualClock, build_device, ensor_readings

USERS = {"whatwatt": "right-password"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(tmp_path: Path, clock: ManualClock) -> Device:
    return build_device(tmp_path, clock)


@pytest.fixture
async def publisher(device: Device) -> AsyncIterator[QuickPublisher]:
    service = QuickPublisher(device)
    await service.start()
    yield service
    await service.stop()


def mqtc(device: Device) -> dict[str, bool]:
    clouds: dict[str, dict[str, bool]] = system_info(device)["clouds"]
    return clouds["mqtc"]


def expected_power() -> int | float:
    """P_In of the report the pump sends, in kW as the device prints it."""
    return num(ensor_readings(1)[0].values["1.7.0"] / 1000)


async def test_publishes_the_template_with_username_and_password(
        device: Device, clock: ManualClock, publisher: QuickPublisher) -> None:
    async with amqtt_broker(users=USERS) as (_, port), subscriber(port) as sub:
        await device.settings.apost(sections.MQTT, mqtt_settings(
            port, username="whatwatt", password="right-password"))
        async with pumping(device, clock):
            message = await sub.next()
        assert message.topic.value == "lab/energy/whatwatt-001"
        assert message.qos == 0 and not message.retain
        body = sub.payload(message)
        assert body.startswith('{"sys_id":"A842E39F8124","P_In":')
        assert body.endswith(',"x":"${nope}"}')  # unknown: verbatim
        assert float(body.split('"P_In":')[1].split(",")[0]) == expected_power()
        assert mqtc(device) == {"enabled": True, "connected": True}
        assert publisher.published >= 1


async def test_a_wrong_password_is_a_status_and_one_log_line(
        device: Device, publisher: QuickPublisher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "emulator.services")
    async with amqtt_broker(users=USERS) as (_, port):
        await device.settings.apost(sections.MQTT, mqtt_settings(
            port, username="whatwatt", password="wrong"))
        await wait_mqtt(device, ServiceState.RETRYING, failures=4)
    status = device.services.get(MQTT)
    assert "refused the connection" in status.detail
    assert mqtc(device) == {"enabled": True, "connected": False}
    lines = [r for r in caplog.records if "refused the connection" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].levelno == logging.WARNING


async def test_an_unreachable_broker_leaves_the_device_working(
        device: Device, clock: ManualClock, publisher: QuickPublisher,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "emulator.services")
    await device.settings.apost(sections.MQTT, mqtt_settings(free_port()))
    async with pumping(device, clock):
        await wait_mqtt(device, ServiceState.RETRYING, failures=4)
    assert "cannot reach the broker" in device.services.get(MQTT).detail
    assert mqtc(device)["connected"] is False
    assert device.latest is not None and device.latest.id > 1  # reports went on
    assert sum("cannot reach" in r.getMessage() for r in caplog.records) == 1


async def test_publishing_resumes_after_the_broker_restarts(
        device: Device, clock: ManualClock, publisher: QuickPublisher,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "emulator.services")
    port = free_port()
    async with amqtt_broker(port) as _:
        async with subscriber(port) as sub, pumping(device, clock):
            await device.settings.apost(sections.MQTT, mqtt_settings(port))
            await sub.next()
        task = publisher._task
    # The broker is gone and no report comes: the loss is noticed all the same.
    await wait_mqtt(device, ServiceState.RETRYING)
    assert mqtc(device)["connected"] is False
    async with amqtt_broker(port) as _, subscriber(port) as sub, pumping(device, clock):
        await sub.next()
        assert publisher._task is task and task is not None and not task.done()
        assert publisher.connections == 2
        assert mqtc(device)["connected"] is True
    assert sum("works again" in r.getMessage() for r in caplog.records) == 1


async def test_a_settings_change_reconnects(device: Device, clock: ManualClock,
                                            publisher: QuickPublisher) -> None:
    async with amqtt_broker() as (_, port), subscriber(port) as sub:
        await device.settings.apost(sections.MQTT, mqtt_settings(port))
        async with pumping(device, clock):
            await sub.next()
            await device.settings.aput(sections.MQTT, {"publish": {
                "topic": "other/topic", "template": "${tariff}"}})
            while (message := await sub.next()).topic.value != "other/topic":
                pass
        assert sub.payload(message) == "1"
        assert publisher.connections == 2


async def test_disabling_disconnects(device: Device, clock: ManualClock,
                                     publisher: QuickPublisher) -> None:
    async with amqtt_broker() as (_, port), subscriber(port) as sub:
        await device.settings.apost(sections.MQTT, mqtt_settings(port))
        async with pumping(device, clock):
            await sub.next()
        await device.settings.aput(sections.MQTT, {"enable": False})
        await wait_mqtt(device, ServiceState.DISABLED)
    assert mqtc(device) == {"enabled": False, "connected": False}


async def test_the_free_licence_keeps_the_client_stopped(tmp_path: Path,
                                                         clock: ManualClock) -> None:
    device = build_device(tmp_path, clock, license_type="FREE")
    await device.settings.apost(sections.MQTT, mqtt_settings(free_port()))
    service = QuickPublisher(device)
    await service.start()
    try:
        await wait_mqtt(device, ServiceState.DISABLED)
        assert "Plus licence" in device.services.get(MQTT).detail
        assert service.connections == 0
        # Configured, so enabled as the settings say; never connected.
        assert mqtc(device) == {"enabled": True, "connected": False}
    finally:
        await service.stop()


@pytest.mark.parametrize(("last", "now", "interval", "due"), [
    (None, 5.0, 30, True),      # the first report after connecting
    (0.0, 10.0, 30, False),     # the meter reports more often than the interval
    (0.0, 29.9, 30, True),      # a meter's jitter does not skip to the next report
    (0.0, 29.5, 30, False),
    (0.0, 60.0, 30, True),      # the meter reports less often: every report
    (0.0, 1.0, 1, True),
])
def test_publications_follow_the_report_interval(last: float | None, now: float,
                                                 interval: int, due: bool) -> None:
    assert is_due(last, now, interval) is due


async def _reports_every_second(device: Device, clock: ManualClock, seconds: int,
                                published: list[float], listening: list[int]) -> None:
    """A meter reporting once a device-second for `seconds`; the device clock moves in
    half seconds, and the loop runs what became ready at each step (a clock that jumps a
    whole second would wake the publisher and deliver the report at the same instant)."""
    reading = ensor_readings(1)[0]
    device.link_listening(Interface.P1, "test")
    for _ in range(seconds):
        for half in (0, 1):
            clock.advance(0.5)
            if half:
                device.on_event(FrameDecoded(reading, 900), Interface.P1)
                published.append(clock.time())
            await asyncio.sleep(0.01)
            listening.append(device.reports.subscribers)


async def test_publications_follow_the_report_interval_end_to_end(
        device: Device, clock: ManualClock, publisher: QuickPublisher) -> None:
    """The first report after connecting, then the first one due every interval, and a
    shorter interval set between publications takes effect at once (not after the old
    one). The publisher takes no reports between publications."""
    start = clock.time()
    await device.settings.apost(sections.SYSTEM, {"services": {"report_interval": 10}})
    async with amqtt_broker() as (_, port), subscriber(port) as sub:
        await device.settings.apost(sections.MQTT, mqtt_settings(
            port, publish={"topic": "t/w", "template": '{"t":"${sys.date_time_utc}"}'}))
        await wait_mqtt(device, ServiceState.RUNNING)
        sent: list[float] = []
        listening: list[int] = []
        await _reports_every_second(device, clock, 25, sent, listening)
        await device.settings.apost(sections.SYSTEM, {"services": {"report_interval": 3}})
        await _reports_every_second(device, clock, 7, sent, [])
        seen = []
        for _ in range(3 + 3):
            stamp = (await sub.next_json(10.0))["t"]
            seen.append(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    offsets = [round(t - start) for t in seen]
    first = round(sent[0] - start)
    # 10 s apart from the first (the reports at 1..25 s); then, the interval 3 s from 25 s,
    # the first report after the change (at 26 s, 5 s after the last) and every 3 s.
    assert first == 1
    assert offsets == [1, 11, 21, 26, 29, 32]
    assert publisher.published == 6
    # Step k is at (k + 1) / 2 s. From 1.5 s to 10 s nobody took the device's reports;
    # from 10.25 s (seen at the step of 10.5 s) the publisher listened for the next one.
    assert listening[2:20] == [0] * 18
    assert listening[20] == 1
