"""A fleet in this process: real listeners on loopback, a real broker, the real index."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
from aiohttp import web

from emulator.config import AppConfig
from emulator.fleet.index import create_index
from emulator.fleet.plan import FleetPlan, Listen, ProfileMix
from emulator.fleet.runner import SERVING, STOPPED, Fleet, MqttTarget
from meter_protocols.simulator.profiles import PROFILES
from tests.emulator.services.test_mdns import added, browser

RANGE = "127.0.2.0/29"  # 127.0.2.1 .. 127.0.2.6


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def plan(devices: int, listen: str, mix: str = "ensor-ers:2,lg-e570:1") -> FleetPlan:
    return FleetPlan(devices=devices, seed=42, mix=ProfileMix.parse(mix, frozenset(PROFILES)),
                     listen=Listen.parse(listen))


@contextlib.asynccontextmanager
async def running(fleet: Fleet) -> AsyncIterator[str]:
    """The fleet started, its index served; yields the index's /fleet URL."""
    runner = web.AppRunner(create_index(fleet), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await fleet.start()
        yield f"http://127.0.0.1:{port}/fleet"
    finally:
        await fleet.stop()
        await runner.cleanup()


async def get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        assert response.status == 200, (url, response.status, await response.text())
        return await response.json()


async def test_every_device_serves_its_own_api_through_the_index(tmp_path: Path) -> None:
    port = free_port("127.0.2.1")
    fleet = Fleet(plan(5, f"{RANGE}:{port}"), AppConfig(data_dir=tmp_path, mdns=False))
    async with running(fleet) as index, aiohttp.ClientSession() as client:
        listing = await get_json(client, index)
        assert [d["status"] for d in listing] == [SERVING] * 5
        async with client.get(index.removesuffix("/fleet") + "/ready") as response:
            assert response.status == 200
            assert await response.text() == "5 of 5 devices serving\n"
        assert [d["url"] for d in listing] == [f"http://127.0.2.{i}:{port}"
                                               for i in range(1, 6)]
        assert [d["profile"] for d in listing].count("lg-e570") in (1, 2)
        for entry in listing:
            # the device itself, on its own address
            system = await get_json(client, f"{entry['url']}/api/v1/system")
            assert system["device"]["id"] == entry["id"]
            # the same device through the index's pass-through
            through = await get_json(client, f"{index}/{entry['id']}/api/v1/system")
            assert through["device"]["id"] == entry["id"]
            assert (tmp_path / entry["id"] / "identity.json").exists()
        one = listing[2]
        assert await get_json(client, f"{index}/{one['id'].lower()}") == one
        async with client.get(f"{index}/A842E3000000/api/v1/system") as response:
            assert response.status == 404
        # control of one device through the index (loopback: the control API is on)
        meter = await get_json(client, f"{index}/{one['id']}/emulator/v1/meter")
        assert meter["link"]["line"].startswith(f"virtual:{one['profile']}")
        async with client.post(f"{index}/{one['id']}/emulator/v1/meter/nothing-here",
                               json={}) as response:
            assert response.status == 404  # the device's own answer, passed on
    assert {m.status for m in fleet.members} == {STOPPED}


async def test_a_device_that_cannot_start_does_not_stop_the_others(tmp_path: Path) -> None:
    port = free_port("127.0.2.3")
    with socket.socket() as taken:
        taken.bind(("127.0.2.3", port))
        taken.listen()
        fleet = Fleet(plan(4, f"{RANGE}:{port}"), AppConfig(data_dir=tmp_path, mdns=False))
        async with running(fleet) as index, aiohttp.ClientSession() as client:
            listing = await get_json(client, index)
            states = [d["status"] for d in listing]
            assert states[0] == states[1] == states[3] == SERVING
            assert states[2].startswith("failed: ") and "in use" in states[2]
            async with client.get(f"{index}/{listing[2]['id']}/api/v1/system") as response:
                assert response.status == 503
                assert "failed" in await response.text()
            report = await get_json(client, f"{listing[3]['url']}/api/v1/system")
            assert report["device"]["id"] == listing[3]["id"]


async def test_every_device_publishes_to_the_fleet_broker(tmp_path: Path) -> None:
    fleet = Fleet(plan(3, "127.0.0.1:0"), AppConfig(data_dir=tmp_path, mdns=False),
                  mqtt=MqttTarget(interval=1), mqtt_broker=0)
    async with running(fleet):
        assert fleet.broker_url is not None
        port = int(fleet.broker_url.rsplit(":", 1)[1])
        ids = {m.plan.device_id for m in fleet.members}
        async with aiomqtt.Client("127.0.0.1", port, identifier="fleet-test") as sub:
            await sub.subscribe("whatwatt/#")
            seen: dict[str, Any] = {}
            async with asyncio.timeout(30):
                async for message in sub.messages:
                    assert isinstance(message.payload, bytes)
                    body = json.loads(message.payload)
                    assert str(message.topic) == f"whatwatt/{body['id']}"
                    seen[body["id"]] = body
                    if set(seen) == ids:
                        break
        assert all(isinstance(b["p_in"], (int, float)) for b in seen.values())


async def test_ids_and_state_survive_a_restart(tmp_path: Path) -> None:
    first = Fleet(plan(2, "127.0.0.1:0"), AppConfig(data_dir=tmp_path, mdns=False))
    async with running(first), aiohttp.ClientSession() as client:
        url = first.members[1].url
        async with client.put(f"{url}/api/v1/settings",
                              json={"system": {"name": "kitchen"}}) as response:
            assert response.status == 200, await response.text()
    again = Fleet(plan(2, "127.0.0.1:0"), AppConfig(data_dir=tmp_path, mdns=False))
    assert [m.plan.device_id for m in again.members] == [
        m.plan.device_id for m in first.members]
    async with running(again), aiohttp.ClientSession() as client:
        settings = await get_json(client, f"{again.members[1].url}/api/v1/settings")
        assert settings["system"]["name"] == "kitchen"


async def test_a_browser_finds_every_device_on_its_own_address(tmp_path: Path) -> None:
    port = free_port("127.0.2.1")
    fleet = Fleet(plan(4, f"{RANGE}:{port}"), AppConfig(data_dir=tmp_path))
    async with browser("_http._tcp.local.") as events, running(fleet):
        for member in fleet.members:
            name = f"whatwatt Go {member.plan.device_id[-6:]} WebUI._http._tcp.local."
            event = await events.next(added("_http._tcp.local.", name))
            assert event["addresses"] == [member.config.http_host]
            assert event["port"] == port
            assert event["txt"]["id"] == member.plan.device_id
