"""What the MQTT tests share: real brokers on 127.0.0.1 (amqtt in-process, mosquitto as a
process), a subscriber, a publisher that retries quickly, and a pump of meter reports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

from emulator.device.core import Device
from emulator.device.service_status import MQTT, ServiceState
from emulator.services.mqtt import MqttPublisher
from meter_protocols.readings import FrameDecoded, Interface
from tests.support import ensor_readings

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class PasswordAuth(BaseAuthPlugin):
    """amqtt login check: anonymous clients pass, a named user needs its password."""

    @dataclass
    class Config:
        users: dict[str, str] = field(default_factory=dict)

    async def authenticate(self, *, session: Session) -> bool | None:
        if session.username is None:
            return True
        users: dict[str, str] = self.config.users  # type: ignore[attr-defined]
        return users.get(session.username) == session.password


@contextlib.asynccontextmanager
async def amqtt_broker(port: int = 0, users: dict[str, str] | None = None
                       ) -> AsyncIterator[tuple[Broker, int]]:
    plugin = f"{PasswordAuth.__module__}.{PasswordAuth.__qualname__}"
    broker = Broker({"listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{port}"}},
                     "plugins": {plugin: {"users": users or {}}}})
    await broker.start()
    bound = broker._servers["default"].instance.sockets[0].getsockname()[1]
    try:
        yield broker, bound
    finally:
        if broker.transitions.state == "started":
            await broker.shutdown()


class Subscriber:
    """A real MQTT client subscribed to a topic filter; `next()` awaits the next message."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client

    async def next(self, timeout: float = 20.0) -> aiomqtt.Message:
        async with asyncio.timeout(timeout):
            async for message in self.client.messages:
                return message
        raise AssertionError("unreachable")

    async def next_json(self, timeout: float = 20.0) -> Any:
        return json.loads(self.payload(await self.next(timeout)))

    @staticmethod
    def payload(message: aiomqtt.Message) -> str:
        assert isinstance(message.payload, bytes)
        return message.payload.decode()


@contextlib.asynccontextmanager
async def subscriber(port: int, topic: str = "#", **kwargs: Any) -> AsyncIterator[Subscriber]:
    async with aiomqtt.Client(HOST, port, identifier=f"test-sub-{port}", **kwargs) as client:
        await client.subscribe(topic)
        yield Subscriber(client)


class QuickPublisher(MqttPublisher):
    """The device's publisher with a test's patience: retries after 0.05..0.3 s, waits 2 s
    for a CONNACK (a broker on 127.0.0.1 answers in milliseconds)."""

    backoff_first = 0.05
    backoff_limit = 0.3
    connect_timeout = 2.0


def mqtt_settings(port: int, scheme: str = "mqtt", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enable": True, "url": f"{scheme}://{HOST}:{port}", "client_id": "whatwatt-001",
        "publish": {"topic": "lab/energy/whatwatt-001",
                    "template": '{"sys_id":"${sys.id}","P_In":${1_7_0},"x":"${nope}"}'},
    }
    body.update(extra)
    return body


@contextlib.asynccontextmanager
async def pumping(device: Device, clock: Any, every: float = 0.05) -> AsyncIterator[None]:
    """Meter reports into the device, one every `every` real seconds, the device's clock a
    report interval (30 s) further each time, until the block ends."""
    reading = ensor_readings(1)[0]
    device.link_listening(Interface.P1, "test")

    async def pump() -> None:
        while True:
            clock.advance(30.0)
            device.on_event(FrameDecoded(reading, 900), Interface.P1)
            await asyncio.sleep(every)

    task = asyncio.get_running_loop().create_task(pump(), name="report pump")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_mqtt(device: Device, *states: ServiceState, failures: int = 0,
                    timeout: float = 20.0) -> None:
    """Await the publisher's status reaching one of `states` (with at least `failures`)."""
    def ok() -> bool:
        status = device.services.get(MQTT)
        return status.state in states and status.failures >= failures

    if ok():
        return
    reached = asyncio.Event()
    remove = device.services.subscribe(lambda name, _s: reached.set() if ok() else None)
    try:
        async with asyncio.timeout(timeout):
            await reached.wait()
    finally:
        remove()


class Mosquitto:
    """Debian's mosquitto on 127.0.0.1, from a generated configuration file."""

    def __init__(self, program: str, config: Path) -> None:
        self.program = program
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._drain: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 20.0) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.program, "-c", str(self.config), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.process.stderr is not None
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.process.stderr.readline()).decode(errors="replace")
                if not line:
                    raise AssertionError("mosquitto ended:\n" + "".join(self.log))
                self.log.append(line)
                if " running" in line:
                    break
        self._drain = asyncio.get_running_loop().create_task(
            self._read_log(self.process.stderr), name="mosquitto log")

    async def _read_log(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.log.append(line.decode(errors="replace"))

    async def stop(self, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            if kill:
                process.kill()
            else:
                process.terminate()
        await process.wait()
        if self._drain is not None:
            await self._drain
            self._drain = None
