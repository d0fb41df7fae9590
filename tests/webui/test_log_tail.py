"""GET /emulator/v1/log: the device's own log lines (a fleet's other devices left out), the
newest last, in a ring buffer of bounded size; a bad `lines` is a 400."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.device.core import Device
from emulator.runtime.log_tail import CAPACITY, MAX_LINE, ROUTER, TailRouter
from emulator.runtime.logs import device_log
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("tests.webui.log_tail")
    level = log.level
    log.setLevel(logging.INFO)
    yield log
    log.setLevel(level)


def test_only_the_device_lines_are_kept_in_a_bounded_ring(logger: logging.Logger) -> None:
    router = TailRouter(logger)
    tail = router.attach("AAAAAAAAAAAA", capacity=5)
    other_tail = router.attach("BBBB")
    assert router in logger.handlers
    mine, other = device_log(logger.name, "AAAAAAAAAAAA"), device_log(logger.name, "BBBB")
    for n in range(8):
        mine.info("line %d", n)
        other.info("not mine %d", n)
    logger.info("a line of no device")
    logger.info("[CCCC] a device with no tail open")
    logger.info("tagged", extra={"device_id": "AAAAAAAAAAAA"})
    mine.warning("x" * 2000)
    mine.info("last")
    router.detach(tail)
    assert router in logger.handlers  # BBBB's tail is still open
    mine.info("after close")
    router.detach(other_tail)
    assert router not in logger.handlers
    lines = tail.lines(10)
    assert len(lines) == 5
    assert [line.split(": ", 1)[1] for line in lines] == [
        "line 6", "line 7", "tagged", "x" * (MAX_LINE - len(lines[3].split(": ", 1)[0]) - 2),
        "last"]
    assert all(len(line) <= MAX_LINE for line in lines)
    assert " WARNING tests.webui.log_tail: xxx" in lines[3]
    assert tail.lines(2) == lines[-2:]
    assert tail.lines(0) == []
    assert [line.rsplit(": ", 1)[1] for line in other_tail.lines(3)] == [
        "not mine 5", "not mine 6", "not mine 7"]


async def test_the_route_answers_the_tail(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    device: Device = build_device(tmp_path, ManualClock())
    client: TestClient = await aiohttp_client(create_app(device))  # type: ignore[type-arg]
    api = device_log("emulator.api", device.identity.device_id)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    try:
        for n in range(3):
            api.info("hello %d", n)
        device_log("emulator.api", "0000000000FF").info("another device")
    finally:
        root.setLevel(level)
    body = await (await client.get("/emulator/v1/log?lines=2")).json()
    assert [line.rsplit(": ", 1)[1] for line in body["lines"]] == ["hello 1", "hello 2"]
    everything = await (await client.get("/emulator/v1/log")).json()
    assert not any("another device" in line for line in everything["lines"])
    for bad in ("0", str(CAPACITY + 1), "many", "-3"):
        response = await client.get("/emulator/v1/log", params={"lines": bad})
        assert response.status == 400, bad
        assert (await response.text()).startswith("lines: ")
    # The tail goes with its application (the router leaves its logger with the last tail,
    # checked above on a router of its own; other tests' applications may hold theirs here).
    assert ROUTER.is_open(device.identity.device_id)
    await client.close()
    assert not ROUTER.is_open(device.identity.device_id)


def test_an_application_built_but_never_started_opens_no_tail(tmp_path: Path) -> None:
    device: Device = build_device(tmp_path, ManualClock())
    create_app(device)
    assert not ROUTER.is_open(device.identity.device_id)
