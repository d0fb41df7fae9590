"""The actions runner against real peers on 127.0.0.1: an aiohttp server and a pymodbus
server see exactly what the definition says (constants substituted, method, headers,
payload, registers per type and function code); the status endpoint reports their codes and
times; 409, 429, 404, 400; a slow target delays neither the meter nor other actions."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from emulator.api import create_app
from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.actions_model import STATUS_KEPT
from emulator.device.core import Device
from emulator.device.service_status import ACTIONS, ServiceStatus
from emulator.services.actions import USER_AGENT, ActionsRunner
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device, next_report

ServerFactory = Callable[..., Any]


@dataclass
class Peer:
    """An HTTP server that notes every request; /slow waits until released."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append({"method": request.method, "path": request.path_qs,
                          "headers": dict(request.headers), "body": await request.text()})
        if request.path.startswith("/slow"):
            await self.release.wait()
        status = int(request.query.get("status", "200"))
        return web.Response(status=status, text="done")


@pytest.fixture
async def peer(aiohttp_server: ServerFactory) -> AsyncIterator[Peer]:
    peer = Peer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", peer.handle)
    server: TestServer = await aiohttp_server(app, host="127.0.0.1")
    peer.port = int(server.port or 0)
    yield peer
    peer.release.set()


@dataclass
class ModbusPeer:
    port: int
    seen: list[ModbusPDU]


@pytest.fixture
async def modbus_peer() -> AsyncIterator[ModbusPeer]:
    seen: list[ModbusPDU] = []

    def trace(sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            seen.append(pdu)
        return pdu

    units = [SimDevice(id=unit, simdata=[SimData(0, count=300, datatype=DataType.REGISTERS)])
             for unit in (0, 1, 7)]
    server = ModbusTcpServer(units, address=("127.0.0.1", 0), trace_pdu=trace)
    task = asyncio.get_running_loop().create_task(server.serve_forever())
    while server.transport is None:  # noqa: ASYNC110 - pymodbus offers no ready event
        await asyncio.sleep(0.01)
    port = int(server.transport.sockets[0].getsockname()[1])
    yield ModbusPeer(port, seen)
    await server.shutdown()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def device(tmp_path: Path) -> Device:
    return build_device(tmp_path, ManualClock())


@pytest.fixture
async def runner(device: Device) -> AsyncIterator[ActionsRunner]:
    runner = ActionsRunner(device)
    device.ports.actions = runner
    await runner.start()
    await board_until(device, lambda s: s.running)
    yield runner
    await runner.stop()


@pytest.fixture
async def client(aiohttp_client: ClientFactory, device: Device,
                 runner: ActionsRunner) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(device))


async def board_until(device: Device, check: Callable[[ServiceStatus], bool]) -> None:
    if check(device.services.get(ACTIONS)):
        return
    reached: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def listener(name: str, status: ServiceStatus) -> None:
        if name == ACTIONS and check(status) and not reached.done():
            reached.set_result(None)

    remove = device.services.subscribe(listener)
    try:
        await asyncio.wait_for(reached, 10)
    finally:
        remove()


async def define(client: TestClient, body: dict[str, Any]) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/actions", json=body)
    assert response.status == 200, await response.text()


async def call(client: TestClient, action_id: str, expect: int = 202) -> list[int]:  # type: ignore[type-arg]
    response = await client.post(f"/api/v1/actions/call?id={action_id}")
    assert response.status == expect, await response.text()
    if expect != 202:
        return []
    assert await response.read() == b""
    location = response.headers["Location"]
    assert location.startswith("/api/v1/actions/status?id=")
    return [int(i) for i in location.rsplit("=", 1)[1].split(",")]


async def finished(client: TestClient, runner: ActionsRunner, ids: list[int]) -> list[Any]:  # type: ignore[type-arg]
    """Await the requests' end (the runner's board says nothing is pending), then read
    their status over HTTP."""
    await board_until(runner.device, lambda s: s.running and s.facts.get("pending") == 0)
    if not ids:
        return []
    response = await client.get("/api/v1/actions/status?id=" + ",".join(map(str, ids)))
    assert response.status == 200
    entries: list[Any] = await response.json()
    return entries


async def test_http_requests_carry_the_substituted_definition(
        client: TestClient, runner: ActionsRunner, peer: Peer) -> None:  # type: ignore[type-arg]
    await define(client, {"const": {"host": "127.0.0.1", "port": peer.port, "bri": 20,
                                    "on": True},
                          "actions": [{"id": "light", "requests": [
                              {"http": {"url": "http://${host}:${port}/light/0?b=${bri}",
                                        "headers": {"X-Token": "${bri}"}}},
                              {"http": {"url": "http://${host}:${port}/set?status=201",
                                        "method": "POST", "payload": "on=${on}&b=${bri}",
                                        "headers": {"Content-Type": "text/plain",
                                                    "X-Extra": "yes"}}},
                              {"http": {"url": "http://${host}:${port}/form", "method": "PUT",
                                        "payload": "a=1"}},
                              {"http": {"url": "http://${host}:${port}/gone?status=404",
                                        "method": "DELETE", "payload": "ignored"}}]}]})
    ids = await call(client, "light")
    assert len(ids) == 4 and ids == sorted(ids)
    entries = await finished(client, runner, ids)
    assert [(e["action_id"], e["id"], e["code"]) for e in entries] == [
        ("light", ids[0], 200), ("light", ids[1], 201), ("light", ids[2], 200),
        ("light", ids[3], 404)]
    assert all(e["exe_time"] > 0 for e in entries)
    by_path = {s["path"].split("?")[0]: s for s in peer.seen}
    get = by_path["/light/0"]
    assert (get["method"], get["path"], get["body"]) == ("GET", "/light/0?b=20", "")
    assert get["headers"]["X-Token"] == "${bri}"  # constants are not expanded in headers
    assert get["headers"]["User-Agent"] == USER_AGENT
    post = by_path["/set"]
    assert (post["method"], post["body"]) == ("POST", "on=true&b=20")
    assert post["headers"]["Content-Type"] == "text/plain"
    assert post["headers"]["X-Extra"] == "yes"
    put = by_path["/form"]
    assert (put["method"], put["body"]) == ("PUT", "a=1")
    assert put["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    delete = by_path["/gone"]
    assert (delete["method"], delete["body"]) == ("DELETE", "")


def words(*values: int) -> list[int]:
    return list(values)


def regs(fmt: str, value: float) -> list[int]:
    data = struct.pack(fmt, value)
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


MODBUS_CASES = [  # (func, type, value, registers expected, coils expected)
    (16, "short", "-1234", words(0xFB2E), None),
    (16, "short", "${bri}", words(20), None),
    (16, "int", "123456", words(0x0001, 0xE240), None),
    (16, "int", "-2", words(0xFFFF, 0xFFFE), None),
    (16, "long", "-2", words(0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE), None),
    (16, "long", "1234567890123", regs(">q", 1234567890123), None),
    (16, "float", "-1.23", regs(">f", -1.23), None),
    (16, "double", "3.14159", regs(">d", 3.14159), None),
    (16, "hex", "0809A0B0", words(0x0809, 0xA0B0), None),
    (6, "short", "1234", words(1234), None),
    (6, "short", "-1", words(0xFFFF), None),
    (6, "hex", "ABCD", words(0xABCD), None),
    (5, "short", "1", None, [True]),
    (5, "short", "0", None, [False]),
    (5, "hex", "00FF", None, [True]),
    (5, "hex", "0000", None, [False]),
    (15, "hex", "A1B2", None, [True, False, False, False, False, True, False, True,
                               False, True, False, False, True, True, False, True]),
]


@pytest.mark.parametrize(("func", "kind", "value", "registers", "coils"), MODBUS_CASES)
async def test_modbus_writes_the_exact_registers(
        client: TestClient, runner: ActionsRunner, modbus_peer: ModbusPeer,  # type: ignore[type-arg]
        func: int, kind: str, value: str, registers: list[int] | None,
        coils: list[bool] | None) -> None:
    await define(client, {"const": {"bri": "20", "plc": "127.0.0.1"}, "actions": [
        {"id": "m", "requests": [{"modbus": {
            "host": "${plc}", "port": modbus_peer.port, "unit_id": 7, "func": func,
            "address": 10, "type": kind, "value": value, "timeout": 2}}]}]})
    [status_id] = await call(client, "m")
    [entry] = await finished(client, runner, [status_id])
    assert (entry["action_id"], entry["code"]) == ("m", 1)
    assert entry["exe_time"] > 0
    [pdu] = modbus_peer.seen
    assert (pdu.function_code, pdu.dev_id, pdu.address) == (func, 7, 10)
    if registers is not None:
        assert pdu.registers == registers
    if coils is not None:
        assert pdu.bits[:len(coils)] == coils
        if func == 15:
            assert pdu.count == len(coils)


async def test_modbus_unit_id_defaults_to_0_and_port_is_honoured(
        client: TestClient, runner: ActionsRunner, modbus_peer: ModbusPeer) -> None:  # type: ignore[type-arg]
    await define(client, {"actions": [{"id": "m", "requests": [{"modbus": {
        "host": "127.0.0.1", "port": modbus_peer.port, "func": 6, "address": 3,
        "value": "0102"}}]}]})
    ids = await call(client, "m")
    assert [e["code"] for e in await finished(client, runner, ids)] == [1]
    assert (modbus_peer.seen[0].dev_id, modbus_peer.seen[0].registers) == (0, [0x0102])


async def test_modbus_failures_have_the_manuals_codes(
        client: TestClient, runner: ActionsRunner, modbus_peer: ModbusPeer,  # type: ignore[type-arg]
        unused_tcp_port: int) -> None:
    heard: list[bytes] = []
    mute_done = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heard.append(await reader.read(100))  # a Modbus peer that never answers
        await reader.read()
        writer.close()
        mute_done.set()

    silent = await asyncio.start_server(mute, "127.0.0.1", 0)
    silent_port = silent.sockets[0].getsockname()[1]
    try:
        await define(client, {"actions": [{"id": "m", "requests": [
            {"modbus": {"host": "127.0.0.1", "port": modbus_peer.port, "unit_id": 1,
                        "func": 16, "address": 299, "type": "int", "value": "1"}},
            {"modbus": {"host": "127.0.0.1", "port": unused_tcp_port, "func": 6,
                        "address": 0, "value": "0001", "timeout": 1}},
            {"modbus": {"host": "127.0.0.1", "port": silent_port, "func": 6,
                        "address": 0, "value": "0001", "timeout": 0.2}}]}]})
        ids = await call(client, "m")
        entries = await finished(client, runner, ids)
        # Illegal data address; cannot connect; no answer within the timeout.
        assert [e["code"] for e in entries] == [-102, -17, -3]
        assert entries[2]["exe_time"] >= 0.2
        assert heard and heard[0][7] == 6  # the request reached the mute peer
        await mute_done.wait()  # the runner closed its connection
    finally:
        silent.close()
        await silent.wait_closed()


async def test_refusals_409_429_404_400(
        client: TestClient, runner: ActionsRunner, peer: Peer) -> None:  # type: ignore[type-arg]
    slow = {"http": {"url": f"http://127.0.0.1:{peer.port}/slow"}}
    await define(client, {"actions": [
        {"id": "slow", "requests": [slow]},
        {"id": "nine", "requests": [slow] * 9},
        {"id": "ten", "requests": [slow] * 10},
        {"id": "two", "requests": [slow] * 2},
        {"id": "off", "enable": False, "requests": [slow]},
        {"id": "all-off", "requests": [{"http": {**slow["http"], "enable": False}}]}]})
    first = await call(client, "slow")
    await call(client, "slow", 409)  # still running
    await call(client, "nine")
    await call(client, "ten")  # 1 + 9 + 10 = 20 pending: the limit
    await call(client, "two", 429)
    await call(client, "unknown", 404)
    await call(client, "off", 400)
    await call(client, "all-off", 400)
    running = await (await client.get(f"/api/v1/actions/status?id={first[0]}")).json()
    assert running == [{"action_id": "slow", "id": first[0], "code": -1, "exe_time": 0}]
    peer.release.set()
    entries = await finished(client, runner, first)
    assert entries[0]["code"] == 200
    await call(client, "two")  # room again
    await finished(client, runner, [])


async def test_a_slow_target_delays_neither_other_actions_nor_the_meter(
        client: TestClient, runner: ActionsRunner, peer: Peer, device: Device) -> None:  # type: ignore[type-arg]
    await define(client, {"actions": [
        {"id": "slow", "requests": [{"http": {"url": f"http://127.0.0.1:{peer.port}/slow"}}]},
        {"id": "fast", "requests": [{"http": {"url": f"http://127.0.0.1:{peer.port}/f"}}]}]})
    [slow] = await call(client, "slow")
    [fast] = await call(client, "fast")
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fast_done(name: str, status: ServiceStatus) -> None:
        entries = runner.statuses([fast])
        if entries and entries[0].code != -1 and not done.done():
            done.set_result(None)

    remove = device.services.subscribe(fast_done)
    try:
        await asyncio.wait_for(done, 10)
    finally:
        remove()
    body = await (await client.get(f"/api/v1/actions/status?id={slow},{fast}")).json()
    assert [(e["id"], e["code"]) for e in body] == [(slow, -1), (fast, 200)]
    peer.release.set()
    await finished(client, runner, [slow])


async def test_http_timeouts_and_refused_connections(
        client: TestClient, runner: ActionsRunner, peer: Peer, unused_tcp_port: int) -> None:  # type: ignore[type-arg]
    await define(client, {"actions": [{"id": "t", "requests": [
        {"http": {"url": f"http://127.0.0.1:{peer.port}/slow", "timeout": 0.1}},
        {"http": {"url": f"http://127.0.0.1:{unused_tcp_port}/", "timeout": 1}}]}]})
    ids = await call(client, "t")
    entries = await finished(client, runner, ids)
    assert [e["code"] for e in entries] == [-3, -17]
    assert entries[0]["exe_time"] >= 0.1


async def test_status_entries_are_bounded(
        client: TestClient, runner: ActionsRunner, peer: Peer) -> None:  # type: ignore[type-arg]
    await define(client, {"actions": [{"id": "f", "requests": [
        {"http": {"url": f"http://127.0.0.1:{peer.port}/f"}}]}]})
    ids: list[int] = []
    for _ in range(STATUS_KEPT + 5):
        ids += await call(client, "f")
        await finished(client, runner, [])
    entries = await (await client.get(
        "/api/v1/actions/status?id=" + ",".join(map(str, ids)))).json()
    assert [e["id"] for e in entries] == ids[-STATUS_KEPT:]
    assert len(runner.statuses(ids)) == STATUS_KEPT


async def test_in_the_whole_device_the_meter_goes_on_while_a_target_hangs(
        tmp_path: Path, peer: Peer) -> None:
    import aiohttp  # noqa: PLC0415

    app = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "app", speed=20))
    await app.start()
    try:
        async with aiohttp.ClientSession() as session:
            definition = {"actions": [{"id": "hang", "requests": [
                {"http": {"url": f"http://127.0.0.1:{peer.port}/slow", "timeout": 10}}]}]}
            async with session.post(app.url + "/api/v1/actions", json=definition) as r:
                assert r.status == 200
            async with session.post(app.url + "/api/v1/actions/call?id=hang") as r:
                assert r.status == 202
                location = r.headers["Location"]
            first = await next_report(app.device)
            second = await next_report(app.device)
            assert second.id > first.id
            async with session.get(app.url + location) as r:
                assert [e["code"] for e in await r.json()] == [-1]  # still hanging
            peer.release.set()
            await board_until(app.device, lambda s: s.facts.get("pending") == 0)
            async with session.get(app.url + location) as r:
                assert [e["code"] for e in await r.json()] == [200]
    finally:
        await app.stop()
