"""Benchmarks of the MQTT publisher (issue 11). Prints its figures; asserts nothing.

    python bench/bench_mqtt.py [--count 300] [--restarts 10]

The broker is Debian's mosquitto when installed, else amqtt, in its own process either way;
the device and its publisher run here. Figures:
- publish latency: a report handed to the device -> the templated message at a subscriber
  (median, p99; the Home Assistant template of 30 variables);
- the publisher's CPU per message: this process's CPU per report with the publisher
  publishing, minus the same without a publisher (the device's own report building), next
  to the template engine alone;
- the process's RSS before and after the broker is killed and restarted N times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402

from emulator.device.faces.variables import variables  # noqa: E402
from emulator.device.service_status import ServiceState  # noqa: E402
from emulator.device.settings import sections  # noqa: E402
from emulator.device.system_info import system_variables  # noqa: E402
from emulator.device.template import Template  # noqa: E402
from emulator.device.values import Report  # noqa: E402
from emulator.services.mqtt import MqttPublisher  # noqa: E402
from meter_protocols.readings import FrameDecoded, Interface  # noqa: E402
from tests.emulator.device.test_template import HA_TEMPLATE  # noqa: E402
from tests.emulator.services.mqtt_support import wait_mqtt  # noqa: E402
from tests.support import ManualClock, build_device, ensor_readings  # noqa: E402

HOST = "127.0.0.1"
AMQTT_SCRIPT = """
import asyncio, sys
from amqtt.broker import Broker
async def main():
    broker = Broker({"listeners": {"default": {"type": "tcp", "bind": sys.argv[1]}},
                     "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {}}})
    await broker.start()
    print("running", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


class CountingPublisher(MqttPublisher):
    backoff_first = 0.05
    backoff_limit = 0.2

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.done = asyncio.Event()

    async def _publish(self, *args: object) -> None:  # type: ignore[override]
        await super()._publish(*args)  # type: ignore[arg-type]
        self.done.set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class BrokerProcess:
    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None
        self.mosquitto = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)

    @property
    def name(self) -> str:
        return "mosquitto" if self.mosquitto else "amqtt"

    async def start(self) -> None:
        if self.mosquitto:
            config = self.folder / "bench.conf"
            config.write_text(f"listener {self.port} {HOST}\nallow_anonymous true\n"
                              "persistence false\nuser root\nlog_dest none\n")
            self.process = await asyncio.create_subprocess_exec(
                self.mosquitto, "-c", str(config), stderr=asyncio.subprocess.DEVNULL)
        else:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", AMQTT_SCRIPT, f"{HOST}:{self.port}",
                stdout=asyncio.subprocess.PIPE)
            assert self.process.stdout is not None
            await self.process.stdout.readline()
        for _ in range(200):  # until it accepts connections
            try:
                _, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise RuntimeError("the broker did not start")

    async def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            await self.process.wait()
            self.process = None


@contextlib.asynccontextmanager
async def device_with_publisher(port: int, folder: Path, publish: bool
                                ) -> AsyncIterator[tuple[object, ManualClock, CountingPublisher]]:
    clock = ManualClock()
    device = build_device(folder / f"device-{publish}", clock)
    device.link_listening(Interface.P1, "bench")
    await device.settings.apost(sections.MQTT, {
        "enable": publish, "url": f"mqtt://{HOST}:{port}", "client_id": "bench",
        "publish": {"topic": "bench/whatwatt", "template": HA_TEMPLATE}})
    publisher = CountingPublisher(device)
    await publisher.start()
    try:
        if publish:
            await wait_mqtt(device, ServiceState.RUNNING)
            await asyncio.sleep(0.1)  # it subscribes to the reports once connected
        yield device, clock, publisher
    finally:
        await publisher.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def latency(port: int, folder: Path, count: int) -> list[float]:
    reading = ensor_readings(1)[0]
    out = []
    async with device_with_publisher(port, folder, True) as (device, clock, _), \
            aiomqtt.Client(HOST, port, identifier="bench-sub") as sub:
        await sub.subscribe("bench/#")
        messages = aiomqtt.Client.messages.fget(sub)  # type: ignore[attr-defined]
        for _ in range(count):
            clock.advance(30)
            start = time.perf_counter()
            device.on_event(FrameDecoded(reading, 900), Interface.P1)  # type: ignore[attr-defined]
            await anext(messages)
            out.append(time.perf_counter() - start)
    return out


async def cpu_per_report(port: int, folder: Path, count: int, publish: bool) -> float:
    reading = ensor_readings(1)[0]
    async with device_with_publisher(port, folder, publish) as (device, clock, publisher):
        start = time.process_time()
        for _ in range(count):
            clock.advance(30)
            publisher.done.clear()
            device.on_event(FrameDecoded(reading, 900), Interface.P1)  # type: ignore[attr-defined]
            if publish:
                await publisher.done.wait()
            else:
                await asyncio.sleep(0)
        return (time.process_time() - start) / count


def template_cost(count: int) -> float:
    reading = ensor_readings(1)[0]
    device = build_device(Path(tempfile.mkdtemp()), ManualClock())
    report = Report(1, 1.0, reading.meter_time.timestamp() if reading.meter_time else 0,
                    reading, Interface.P1)
    template = Template.parse(HA_TEMPLATE)
    start = time.process_time()
    for _ in range(count):
        template.render(dict(variables(report, system_variables(device), device.zone)))
    return (time.process_time() - start) / count


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def restarts(broker: BrokerProcess, folder: Path, count: int) -> tuple[float, float]:
    reading = ensor_readings(1)[0]
    async with device_with_publisher(broker.port, folder, True) as (device, clock, publisher):
        before = rss_mb()
        for _ in range(count):
            await broker.kill()
            await broker.start()
            publisher.done.clear()
            while not publisher.done.is_set():  # publishing resumed
                clock.advance(30)
                device.on_event(FrameDecoded(reading, 900), Interface.P1)  # type: ignore[attr-defined]
                await asyncio.sleep(0.05)
        return before, rss_mb()


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the restarts' one warning each: not figures
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--restarts", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = BrokerProcess(free_port(), folder)
        await broker.start()
        try:
            print(f"broker: {broker.name} (own process); template: Home Assistant's, "
                  f"30 variables; {args.count} reports")
            lat = await latency(broker.port, folder, args.count)
            print(f"publish latency report -> subscriber: median {statistics.median(lat)*1e3:.2f}"
                  f" ms, p99 {percentile(lat, 0.99)*1e3:.2f} ms")
            with_mqtt = await cpu_per_report(broker.port, folder, args.count, True)
            without = await cpu_per_report(broker.port, folder, args.count, False)
            print(f"CPU per report: {with_mqtt*1e6:.0f} us publishing, {without*1e6:.0f} us "
                  f"without a publisher -> publisher {max(0, with_mqtt - without)*1e6:.0f} us "
                  "per message")
            print(f"template engine alone (variables table + render): "
                  f"{template_cost(args.count)*1e6:.0f} us per message")
            before, after = await restarts(broker, folder, args.restarts)
            print(f"RSS {before:.1f} MB -> {after:.1f} MB after {args.restarts} broker "
                  "kills and restarts (publishing resumed after each)")
        finally:
            await broker.kill()


if __name__ == "__main__":
    asyncio.run(main())
