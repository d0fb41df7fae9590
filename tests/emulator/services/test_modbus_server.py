"""The Modbus TCP server through a real pymodbus client on 127.0.0.1: the default map
against /api/v1/report, a third-party integration's reads and discovery probe, the
docs' custom map, exceptions, and the settings taking effect without a reboot."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import aiohttp
import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer

from emulator.app import EmulatorApp
from emulator.config import AppConfig, License
from emulator.device.service_status import MODBUS, ServiceState
from emulator.meter.source import MeterSource
from emulator.runtime.backoff import Backoff
from tests.support import ENSOR_MOMENT, doc_json_blocks, wait_status

Decode = AsyncModbusTcpClient.DATATYPE
FLOAT, DOUBLE, INT32 = Decode.FLOAT32, Decode.FLOAT64, Decode.INT32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_modbus(app: EmulatorApp, state: ServiceState) -> None:
    board = app.device.services
    reached = asyncio.get_running_loop().create_future()

    def listener(name: str, status: Any) -> None:
        if name == MODBUS and status.state is state and not reached.done():
            reached.set_result(None)
    remove = board.subscribe(listener)
    try:
        if board.get(MODBUS).state is not state:
            await asyncio.wait_for(reached, 20)
    finally:
        remove()


@contextlib.asynccontextmanager
async def device(tmp_path: Path, profile: str = "ensor-ers", *, speed: float = 1.0,
                 license: License = License.PLUS) -> AsyncIterator[EmulatorApp]:
    from emulator.device.clock import ScaledClock  # noqa: PLC0415

    config = AppConfig(http_port=0, data_dir=tmp_path / "data", mdns=False, speed=speed,
                       meter=MeterSource.parse(f"virtual:{profile}"), license=license)
    app = EmulatorApp(config, ScaledClock(speed, ENSOR_MOMENT), backoff=Backoff(0.1, 0.5))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def http(app: EmulatorApp, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as session, \
            session.request(method, app.url + path, json=body) as response:
        assert response.status in (200, 204), await response.text()
        return await response.json() if response.status == 200 else None


async def enable(app: EmulatorApp, port: int) -> None:
    await http(app, "PUT", "/api/v1/settings",
               {"services": {"modbus": {"enable": True, "port": port}}})
    await wait_modbus(app, ServiceState.RUNNING)


@contextlib.asynccontextmanager
async def client(port: int) -> AsyncIterator[AsyncModbusTcpClient]:
    modbus = AsyncModbusTcpClient("127.0.0.1", port=port, retries=0)
    assert await modbus.connect()
    try:
        yield modbus
    finally:
        modbus.close()


async def read(modbus: AsyncModbusTcpClient, address: int, count: int,
               unit: int = 1) -> list[int]:
    response = await modbus.read_input_registers(address, count=count, device_id=unit)
    assert not response.isError(), response
    return list(response.registers)


def value(words: list[int], kind: Any, word_order: Literal["big", "little"] = "big") -> float:
    decoded = AsyncModbusTcpClient.convert_from_registers(words, kind, word_order=word_order)
    assert isinstance(decoded, int | float)
    return float(decoded)


def path(report: dict[str, Any], dotted: str) -> float | None:
    node: Any = report
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node)


def signed(report: dict[str, Any], kind: str, phase: str) -> float | None:
    pos = path(report, f"instantaneous_power.{kind}.positive.{phase}")
    neg = path(report, f"instantaneous_power.{kind}.negative.{phase}")
    if pos is None and neg is None:
        return None
    return (pos or 0.0) - (neg or 0.0)


def current(report: dict[str, Any], phase: str) -> float | None:
    amps = path(report, f"current.{phase}")
    power = signed(report, "active", phase)
    if amps is None:
        return None
    return -amps if power is not None and power < 0 else amps


def _energy(c: str, tariff: str) -> Callable[[dict[str, Any]], float | None]:
    kind, direction = {"1": ("active", "positive"), "2": ("active", "negative"),
                       "3": ("reactive", "positive"), "4": ("reactive", "negative")}[c]
    return lambda r: path(r, f"energy.{kind}.{direction}.{tariff}")


#: The default map read back: (address, type, scaler, the value in /api/v1/report).
EXPECTED: list[tuple[int, Any, int, Callable[[dict[str, Any]], float | None]]] = [
    (1, FLOAT, 0, lambda r: path(r, "voltage.l1")),
    (3, FLOAT, 0, lambda r: path(r, "voltage.l2")),
    (5, FLOAT, 0, lambda r: path(r, "voltage.l3")),
    (13, FLOAT, 0, lambda r: current(r, "l1")),
    (15, FLOAT, 0, lambda r: current(r, "l2")),
    (17, FLOAT, 0, lambda r: current(r, "l3")),
    (25, FLOAT, 3, lambda r: signed(r, "active", "l1")),
    (27, FLOAT, 3, lambda r: signed(r, "active", "l2")),
    (29, FLOAT, 3, lambda r: signed(r, "active", "l3")),
    (31, FLOAT, 3, lambda r: signed(r, "reactive", "l1")),
    (35, FLOAT, 3, lambda r: signed(r, "reactive", "l3")),
    (63, FLOAT, 3, lambda r: path(r, "instantaneous_power.apparent.total")),
    (65, FLOAT, 3, lambda r: signed(r, "active", "total")),
    (67, FLOAT, 3, lambda r: signed(r, "reactive", "total")),
    (69, FLOAT, 3, lambda r: path(r, "power_factor")),
    (211, INT32, 0, lambda r: path(r, "tariff")),
    (501, FLOAT, 3, lambda r: path(r, "instantaneous_power.active.positive.total")),
    (503, FLOAT, 3, lambda r: path(r, "instantaneous_power.reactive.positive.total")),
    (505, FLOAT, 3, lambda r: path(r, "instantaneous_power.active.negative.total")),
    (507, FLOAT, 3, lambda r: path(r, "instantaneous_power.reactive.negative.total")),
    (549, FLOAT, 3, _energy("1", "total")),
    (551, FLOAT, 3, _energy("3", "total")),
    (553, FLOAT, 3, _energy("2", "total")),
    (555, FLOAT, 3, _energy("4", "total")),
    *[(801 + 4 * i, DOUBLE, 3, _energy(c, t))
      for i, (c, t) in enumerate((c, t) for c in "1234" for t in ("t1", "t2"))],
]
#: How many of EXPECTED each profile's report fills (the others must read 0).
MIN_FILLED = {"ensor-ers": 19, "lg-e570": 9}
SPANS = [(1, 42), (55, 16), (205, 16), (501, 20), (549, 8), (801, 160)]


async def read_default_map(modbus: AsyncModbusTcpClient) -> dict[int, list[int]]:
    words: dict[int, list[int]] = {}
    for start, size in SPANS:
        at = start
        while at < start + size:
            count = min(100, start + size - at)
            words.setdefault(start, []).extend(await read(modbus, at, count))
            at += count
    return words


def registers_at(words: dict[int, list[int]], address: int, size: int) -> list[int]:
    for start, block in words.items():
        if start <= address < start + len(block):
            return block[address - start:address - start + size]
    raise AssertionError(f"{address} not read")


@pytest.mark.parametrize("profile", ["ensor-ers", "lg-e570"])
async def test_the_default_map_reads_what_the_report_says(tmp_path: Path, profile: str) -> None:
    async with device(tmp_path, profile, speed=10) as app:
        await wait_status(app.device, "OK", timeout=120)
        port = free_port()
        await enable(app, port)
        async with client(port) as modbus:
            for _ in range(50):  # a new report between the reads: read again
                before = (await http(app, "GET", "/api/v1/report"))["report"]
                words = await read_default_map(modbus)
                after = (await http(app, "GET", "/api/v1/report"))["report"]
                if before["id"] == after["id"]:
                    break
            else:
                pytest.fail("a report came between every pair of reads")
    checked = 0
    for address, kind, scaler, expected in EXPECTED:
        size = 4 if kind is DOUBLE else 2
        got = value(registers_at(words, address, size), kind) / 10 ** scaler
        want = expected(before)
        if want is None:
            assert got == 0, (address, got)
            continue
        checked += 1
        tolerance = 0.0006 + abs(want) * 2e-7  # the report's 3 decimals, float32's 24 bits
        assert math.isclose(got, want, abs_tol=tolerance), (address, got, want)
    assert checked >= MIN_FILLED[profile], checked
    # Padding reads as zeros.
    assert registers_at(words, 7, 6) == [0] * 6
    assert registers_at(words, 833, 128) == [0] * 128


async def test_a_third_party_integrations_reads_and_probe(tmp_path: Path) -> None:
    async with device(tmp_path, "ensor-ers") as app:
        await wait_status(app.device, "OK", timeout=60)
        port = free_port()
        await enable(app, port)
        async with client(port) as modbus:
            # The integration's polls: FC4, unit 1, registers 1..30, 501..508, 549..554,
            # 801..816.
            for first, last in ((1, 30), (501, 508), (549, 554), (801, 816)):
                assert len(await read(modbus, first, last - first + 1)) == last - first + 1
            # Its discovery probe: float32 voltages at registers 1 and 3 within 30..500 V
            # mean a three-phase meter.
            l1 = value(await read(modbus, 1, 2), FLOAT)
            l2 = value(await read(modbus, 3, 2), FLOAT)
            assert 30 <= l1 <= 500
            assert 30 <= l2 <= 500
            # Any unit id is answered.
            for unit in (0, 2, 247):
                assert len(await read(modbus, 1, 2, unit=unit)) == 2


async def exception_code(response: ModbusPDU) -> int:
    assert response.isError()
    return int(response.exception_code)


async def test_reads_outside_the_map_and_other_functions_are_refused(tmp_path: Path) -> None:
    async with device(tmp_path) as app:
        port = free_port()
        await enable(app, port)
        async with client(port) as modbus:
            # Address 0 and the gap 43..54 are outside the default map: illegal address.
            assert await exception_code(await modbus.read_input_registers(0, count=2)) == 2
            assert await exception_code(await modbus.read_input_registers(41, count=4)) == 2
            assert await exception_code(await modbus.read_input_registers(9000, count=1)) == 2
            # Holding registers and writes are not functions the device has.
            assert await exception_code(await modbus.read_holding_registers(1, count=2)) == 1
            assert await exception_code(await modbus.write_register(1, 5)) == 1
            # The connection goes on serving.
            assert len(await read(modbus, 1, 2)) == 2


async def test_the_docs_custom_map_reads_back_with_its_word_order_and_scalers(
        tmp_path: Path) -> None:
    custom = doc_json_blocks("35-modbus/index.md")[0]
    async with device(tmp_path) as app:
        await wait_status(app.device, "OK", timeout=60)
        assert await http(app, "POST", "/api/v1/modbus", custom) is not None
        port = free_port()
        await enable(app, port)
        async with client(port) as modbus:
            for _ in range(50):
                before = (await http(app, "GET", "/api/v1/report"))["report"]
                first = await read(modbus, 0, 22)
                energy = await read(modbus, 1000, 6)
                system = await read(modbus, 2000, 10)
                after = (await http(app, "GET", "/api/v1/report"))["report"]
                if before["id"] == after["id"]:
                    break
    # Set 0 is least significant word first: the client decodes it as "little".
    power = value(first[0:2], FLOAT, "little")
    assert math.isclose(power, before["instantaneous_power"]["active"]["positive"]["total"]
                        * 1000, abs_tol=0.6)
    assert value(first[0:2], FLOAT, "big") != power or power == 0
    volts = value(first[14:16], FLOAT, "little")
    assert math.isclose(volts, before["voltage"]["l1"], abs_tol=0.001)
    # report.timestamp: an int at address 20 (the docs' mbpoll example says 40; the map
    # puts it after ten floats).
    stamp = value(first[20:22], INT32, "little")
    assert abs(stamp - app.device.latest.timestamp) < 2  # type: ignore[union-attr]
    # Set 1000 is msw: energies in Wh as 32-bit integers.
    assert value(energy[0:2], INT32) == round(before["energy"]["active"]["positive"]["total"]
                                              * 1000)
    assert value(energy[2:4], INT32) == round(before["energy"]["active"]["positive"]["t1"]
                                              * 1000)
    # Set 2000: the system id, the firmware and the date-time as byte arrays.
    device_id = b"".join(w.to_bytes(2, "big") for w in system[0:3])
    assert device_id.hex().upper() == app.device.identity.device_id
    major, minor, release = (int(p) for p in app.device.identity.firmware.split("."))
    assert system[3:6] == [major << 8 | minor, release << 8, 0]
    assert 2024 <= system[6] <= 2100


async def test_enable_disable_and_port_take_effect_without_a_reboot(tmp_path: Path) -> None:
    async with device(tmp_path) as app:
        await wait_modbus(app, ServiceState.DISABLED)  # the factory setting
        first, second = free_port(), free_port()
        await enable(app, first)
        async with client(first) as modbus:
            assert len(await read(modbus, 1, 2)) == 2
        await http(app, "PUT", "/api/v1/settings", {"services": {"modbus": {"port": second}}})
        await wait_modbus(app, ServiceState.RUNNING)
        await asyncio.wait_for(_until_refused(first), 20)
        async with client(second) as modbus:
            assert len(await read(modbus, 501, 8)) == 8
        reader, writer = await asyncio.open_connection("127.0.0.1", second)
        await http(app, "PUT", "/api/v1/settings", {"services": {"modbus": {"enable": False}}})
        await wait_modbus(app, ServiceState.DISABLED)
        assert await asyncio.wait_for(reader.read(), 20) == b""  # a client is dropped
        writer.close()
        await writer.wait_closed()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", second)


async def _until_refused(port: int) -> None:
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.05)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may bind privileged ports")
async def test_a_privileged_port_without_root_says_how_to_shift_it(tmp_path: Path) -> None:
    async with device(tmp_path) as app:
        await http(app, "PUT", "/api/v1/settings", {"services": {"modbus": {"enable": True}}})
        await wait_modbus(app, ServiceState.FAILED)
        status = app.device.services.get(MODBUS)
        assert "port 502 is privileged" in status.detail
        assert "services.modbus.port" in status.detail
        # Shifting the port starts it.
        await enable(app, free_port())


async def test_a_refused_privileged_port_says_how_to_shift_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as a user would see it, where the tests run as root: the OS's refusal of
    port 502 and a non-root user are stood in for."""
    import emulator.services.modbus as service  # noqa: PLC0415

    real_check = service._check_bind

    def refuse(host: str, port: int) -> None:
        if port < 1024:
            raise PermissionError(13, "Permission denied")
        real_check(host, port)

    async def no_listen(self: object, *, background: bool = False) -> None:
        raise RuntimeError("Could not start listen, please check address.")

    monkeypatch.setattr(service, "_check_bind", refuse)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(ModbusTcpServer, "serve_forever", no_listen)
    async with device(tmp_path) as app:
        await http(app, "PUT", "/api/v1/settings", {"services": {"modbus": {"enable": True}}})
        await wait_modbus(app, ServiceState.FAILED)
        status = app.device.services.get(MODBUS)
        assert "port 502 is privileged" in status.detail
        assert "services.modbus.port" in status.detail


async def test_the_free_licence_keeps_the_server_stopped(tmp_path: Path) -> None:
    async with device(tmp_path, license=License.FREE) as app:
        await http(app, "PUT", "/api/v1/settings",
                   {"services": {"modbus": {"enable": True, "port": free_port()}}})
        await wait_modbus(app, ServiceState.DISABLED)
        assert "licence" in app.device.services.get(MODBUS).detail
