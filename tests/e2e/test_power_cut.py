"""Settings survive a power cut at any moment: processes writing settings in a loop are
killed with SIGKILL at random moments, and every restart reads complete, valid files
holding the last acknowledged write (or the one after it, if it had reached the disk).

Two kinds of writer:
- 200 kills of a small writer process started with `python -c`: it builds the real
  DeviceSettings on the real store, exactly as the emulator does, and writes three
  sections in a tight loop. Starting one costs ~60 ms, so 200 kills stay within seconds;
  two run side by side on their own data dirs.
- A few kills of the real emulator (through its CLI) during a loop of HTTP PUTs, then a
  start on the same data dir.

SIGKILL leaves the page cache alone, so this proves the write-then-rename protocol (no
half-written file is ever read, a killed writer's temporary file is never taken for
settings); the fsyncs that make it hold through a real power cut are in store.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.device.settings.network import ETH_SETTINGS, WIFI_STA_SETTINGS
from emulator.device.settings.registry import DeviceSettings
from emulator.device.settings.store import FORMAT_VERSION, SettingsStore
from emulator.device.settings.system import system_settings
from tests.conftest import PROJECT_ROOT
from tests.e2e.conftest import device_url, get_json

pytestmark = pytest.mark.e2e

KILLS = 200
PARALLEL = 2
EMULATOR_KILLS = 5
DEVICE_ID = "A842E39F8124"

WRITER = """
import sys
from pathlib import Path
from emulator.device.settings.network import ETH_SETTINGS, WIFI_STA_SETTINGS
from emulator.device.settings.registry import DeviceSettings
from emulator.device.settings.store import SettingsStore
from emulator.device.settings.system import system_settings

settings = DeviceSettings(SettingsStore(Path(sys.argv[1])), {
    "settings": system_settings("A842E39F8124"), "wifi": WIFI_STA_SETTINGS,
    "eth": ETH_SETTINGS})
n = int(sys.argv[2])
while True:
    n += 1
    settings.put("settings", {"system": {"name": f"w{n}"},
                              "services": {"report_interval": n % 3600 + 1}})
    settings.put("wifi", {"name": f"net{n}", "password": f"password-{n}"})
    settings.post("eth", {"enable": n % 2 == 0, "static_ip": n % 2 == 1,
                          "ip": "10.0.0.2", "netmask": "255.0.0.0", "gateway": "10.0.0.1",
                          "dns": "10.0.0.1"})
    sys.stdout.write(f"{n}\\n")
    sys.stdout.flush()
"""


def read_back(folder: Path) -> dict[str, int]:
    """Loads the settings as the emulator does at start and returns the write number each
    section holds; fails on anything incomplete, unreadable or set aside as corrupt."""
    for name in ("settings", "wifi", "eth"):
        document = json.loads((folder / f"{name}.json").read_bytes())  # complete JSON
        assert document["version"] == FORMAT_VERSION
    settings = DeviceSettings(SettingsStore(folder), {
        "settings": system_settings(DEVICE_ID), "wifi": WIFI_STA_SETTINGS,
        "eth": ETH_SETTINGS})
    assert sorted(p.name for p in folder.iterdir()) == ["eth.json", "settings.json",
                                                        "wifi.json"]  # no .corrupt, no .tmp
    system = settings.get("settings")
    number = int(system["system"]["name"][1:])
    assert system["services"]["report_interval"] == number % 3600 + 1
    wifi = settings.get("wifi")
    assert wifi["password"] == f"password-{wifi['name'][3:]}"
    eth = settings.get("eth")
    assert eth["static_ip"] is not eth["enable"]
    return {"settings": number, "wifi": int(wifi["name"][3:]),
            "eth_parity": 0 if eth["enable"] else 1}


async def kill_loop(folder: Path, kills: int, rng: random.Random) -> int:
    acknowledged = 0
    for _ in range(kills):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, str(folder), str(acknowledged), cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        try:
            first = await asyncio.wait_for(process.stdout.readline(), 30)
            assert first, (await process.stderr.read()).decode()
            await asyncio.sleep(rng.uniform(0, 0.02))  # a random moment to pull the plug
        finally:
            process.kill()
            out, _ = await process.communicate()
        lines = (first + out).split()
        assert all(int(a) + 1 == int(b) for a, b in itertools.pairwise(lines))
        acknowledged = int(lines[-1])
        held = read_back(folder)
        # Every acknowledged write is there; the one in flight may or may not be.
        assert held["settings"] in (acknowledged, acknowledged + 1)
        assert held["wifi"] in (acknowledged, acknowledged + 1)
        assert held["eth_parity"] in (acknowledged % 2, (acknowledged + 1) % 2)
        acknowledged = held["settings"]  # the next writer continues from what is stored
    return acknowledged


async def test_settings_files_survive_200_kills_of_a_writer(tmp_path: Path) -> None:
    rng = random.Random(20250122)
    async with asyncio.TaskGroup() as group:  # one failing loop stops the other
        loops = [group.create_task(kill_loop(tmp_path / f"writer{i}", KILLS // PARALLEL,
                                             random.Random(rng.random())))
                 for i in range(PARALLEL)]
    assert all(loop.result() > KILLS // PARALLEL for loop in loops)  # every run wrote


async def write_loop(session: aiohttp.ClientSession, url: str, number: int,
                     done: list[int]) -> None:
    """PUT settings and Wi-Fi settings, numbered, until the emulator dies; `done` gets the
    number of every round both writes of which were acknowledged."""
    while True:
        number += 1
        async with session.put(url + "/api/v1/settings",
                               json={"system": {"name": f"w{number}"}}) as response:
            assert response.status == 200
        async with session.put(url + "/api/v1/wifi/sta/settings",
                               json={"name": f"net{number}"}) as response:
            assert response.status == 200
        done.append(number)


async def test_the_emulator_killed_during_settings_writes(spawn: Callable[..., Any],
                                                          tmp_path: Path) -> None:
    rng = random.Random(7)
    acknowledged = 0
    for _ in range(EMULATOR_KILLS):
        proc, url = await device_url(spawn, tmp_path)
        async with aiohttp.ClientSession() as session:
            name = (await get_json(session, url + "/api/v1/settings"))["system"]["name"]
            held = int(name[1:]) if name else 0
            wifi = (await get_json(session, url + "/api/v1/wifi/sta/settings"))["name"]
            held_wifi = int(wifi[3:]) if wifi != "HomeNet" else 0
            # Every acknowledged write is there; one in flight may be too (the settings
            # PUT of a round goes first, so Wi-Fi is never ahead of it).
            assert held in (acknowledged, acknowledged + 1)
            assert held_wifi in (acknowledged, acknowledged + 1) and held_wifi <= held
            done: list[int] = []
            writer = asyncio.get_running_loop().create_task(
                write_loop(session, url, held, done))
            await asyncio.sleep(rng.uniform(0.05, 0.3))  # a random moment to pull the plug
            proc.process.send_signal(signal.SIGKILL)
            await proc.process.wait()
            with pytest.raises((aiohttp.ClientError, asyncio.CancelledError)):
                await asyncio.wait_for(writer, 10)
        assert done, "no write was acknowledged before the kill"
        acknowledged = done[-1]
    settings_dir = tmp_path / "data" / "settings"
    assert not [p.name for p in settings_dir.iterdir() if p.suffix == ".corrupt"]
