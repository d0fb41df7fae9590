"""--mqtt-broker: a whole device (virtual meter, HTTP, services) with the embedded broker,
configured over its REST API, publishing to a real subscriber; the option and its
environment variable."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from emulator.app import EmulatorApp
from emulator.cli import device_parser
from emulator.config import AppConfig
from emulator.device.service_status import BROKER, MQTT, ServiceState
from emulator.services.broker import bind_address
from tests.conftest import PROJECT_ROOT
from tests.emulator.device.test_template import HA_TEMPLATE
from tests.emulator.services.mqtt_support import free_port, subscriber


async def wait_running(app: EmulatorApp, name: str) -> None:
    reached = asyncio.Event()
    remove = app.device.services.subscribe(
        lambda service, status: reached.set()
        if service == name and status.state is ServiceState.RUNNING else None)
    try:
        if app.device.services.get(name).state is not ServiceState.RUNNING:
            async with asyncio.timeout(20):
                await reached.wait()
    finally:
        remove()


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[EmulatorApp]:
    emulator = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data", speed=20,
                                     mqtt_broker=0))
    await emulator.start()
    yield emulator
    await emulator.stop()


async def test_a_device_publishes_to_its_embedded_broker(app: EmulatorApp) -> None:
    await wait_running(app, BROKER)
    facts = app.device.services.get(BROKER).facts
    assert facts["host"] == "127.0.0.1"
    port = int(facts["port"] or 0)
    assert port > 0
    async with subscriber(port, "energy/#") as sub, aiohttp.ClientSession() as http:
        settings = {"enable": True, "url": f"mqtt://127.0.0.1:{port}",
                    "client_id": "whatwattGO",
                    "publish": {"topic": "energy/whatwatt/go", "template": HA_TEMPLATE}}
        async with http.post(f"{app.url}/api/v1/mqtt/settings", json=settings) as response:
            assert response.status == 200
        message = await sub.next_json()
        assert message["sys_id"] == app.device.identity.device_id
        assert message["meter_id"] == "20000741"  # the virtual Ensor meter
        assert float(message["power_in"]) >= 0 and message["reactive_power_in"] == "null"
        await wait_running(app, MQTT)
        async with http.get(f"{app.url}/api/v1/system") as response:
            system = await response.json()
        assert system["clouds"]["mqtc"] == {"enabled": True, "connected": True}


def test_the_option_and_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert device_parser().parse_args([]).mqtt_broker is None
    assert device_parser().parse_args(["--mqtt-broker", "1884"]).mqtt_broker == 1884
    monkeypatch.setenv("WHATWATT_MQTT_BROKER", "1885")
    assert device_parser().parse_args([]).mqtt_broker == 1885
    with pytest.raises(SystemExit):
        device_parser().parse_args(["--mqtt-broker", "70000"])


def test_bind_addresses() -> None:
    assert bind_address("127.0.0.1", 1883) == "127.0.0.1:1883"
    assert bind_address("::1", 1883) == "[::1]:1883"


async def test_the_program_starts_its_broker_from_the_environment(tmp_path: Path) -> None:
    """The real program: WHATWATT_MQTT_BROKER starts the broker, the device publishes to it."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "WHATWATT_MQTT_BROKER": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--http", "127.0.0.1:0", "--data-dir",
        str(tmp_path / "data"), "--speed", "10", "--log-level", "WARNING", cwd=PROJECT_ROOT,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode().strip()
        url = line.removeprefix("whatwatt-emulator: serving ")
        assert url.startswith("http://127.0.0.1:"), line
        settings = {"enable": True, "url": f"mqtt://127.0.0.1:{port}",
                    "publish": {"topic": "e2e/go", "template": "${sys.id} ${meter.status}"}}
        async with aiohttp.ClientSession() as http, \
                http.post(f"{url}/api/v1/mqtt/settings", json=settings) as response:
            assert response.status == 200
        for _ in range(100):  # the broker of another process: poll until it accepts
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                break
            await asyncio.sleep(0.1)
        async with subscriber(port, "e2e/#") as sub:
            text = sub.payload(await sub.next(30))
        assert text.endswith(" OK") and len(text.split()[0]) == 12
    finally:
        if process.returncode is None:
            process.terminate()
        assert await process.wait() == 0
