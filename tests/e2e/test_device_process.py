"""The emulator as a user starts it: through the CLI, over real sockets, with a virtual
meter in process or at the far end of a pty or TCP connection in another process."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import device_url, get_json, live_events, wait_for_status
from tests.support import key_paths

pytestmark = pytest.mark.e2e


async def test_default_start_serves_all_four_endpoints_with_moving_values(
        spawn: Callable[..., Any], tmp_path: Path) -> None:
    proc, url = await device_url(spawn, tmp_path)
    async with aiohttp.ClientSession() as session:
        events = await live_events(session, url, 3)
        system = await get_json(session, url + "/api/v1/system")
        report = await get_json(session, url + "/api/v1/report")
        variables = await get_json(session, url + "/api/v1/variables")
    assert system["meter"]["status"] == "OK"
    assert report["meter"]["vendor"] == "Ensor"
    assert report["report"]["id"] >= 3
    assert any(item.get("meter.id") == "20000741" for item in variables)
    # A household: hundreds of watts to a few kW, on all three phases, values that move.
    powers = [e["P_In"] for e in events]
    assert all(0.05 < p < 10 for p in powers)
    assert len({(e["P_In"], e["V_P1"], e["I_P1"]) for e in events}) == 3
    assert all(220 < e["V_P1"] < 240 and 220 < e["V_P3"] < 240 for e in events)
    assert await proc.stop() == 0


async def test_meter_on_a_pty_killed_and_restarted(spawn: Callable[..., Any],
                                                   tmp_path: Path) -> None:
    link = tmp_path / "p1-port"
    meter = await spawn("meter", "--profile", "ensor-ers", "--pty", "--link", str(link))
    assert meter.first_line.startswith("/dev/")
    _, url = await device_url(spawn, tmp_path, "--meter", str(link))
    _, virtual_url = await device_url(spawn, tmp_path / "v")
    async with aiohttp.ClientSession() as session:
        await wait_for_status(session, url, {"OK"})
        await wait_for_status(session, virtual_url, {"OK"})
        over_pty = await get_json(session, url + "/api/v1/report")
        in_process = await get_json(session, virtual_url + "/api/v1/report")
        assert key_paths(over_pty) == key_paths(in_process)
        await meter.stop(signal.SIGKILL)
        await wait_for_status(session, url, {"NOT CONNECTED", "NO DATA"})
        again = await spawn("meter", "--profile", "ensor-ers", "--pty", "--link", str(link))
        assert again.first_line.startswith("/dev/")
        await wait_for_status(session, url, {"OK"})


async def test_meter_over_tcp_like_a_wifi_dongle(spawn: Callable[..., Any],
                                                  tmp_path: Path) -> None:
    meter = await spawn("meter", "--profile", "ensor-ers", "--tcp", "127.0.0.1:0")
    assert meter.first_line.startswith("tcp://127.0.0.1:")
    port = meter.first_line.rsplit(":", 1)[1]
    _, url = await device_url(spawn, tmp_path, "--meter", f"socket://127.0.0.1:{port}")
    async with aiohttp.ClientSession() as session:
        await wait_for_status(session, url, {"OK"})
        report = await get_json(session, url + "/api/v1/report")
    assert report["meter"]["logical_name"] == "ESR51030712084367"


async def test_environment_variables_configure_the_device(spawn: Callable[..., Any],
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATWATT_DEVICE_ID", "ECC9FF5C7F14")
    monkeypatch.setenv("WHATWATT_NO_SDCARD", "1")
    monkeypatch.setenv("WHATWATT_TIMEZONE", "UTC")
    _, url = await device_url(spawn, tmp_path)
    async with aiohttp.ClientSession() as session:
        system = await get_json(session, url + "/api/v1/system")
    assert system["device"]["id"] == "ECC9FF5C7F14"
    assert system["sd_card"]["installed"] is False
    assert system["wifi"]["mac"] == "ECC9FF5C7F14"


def test_profiles_and_help() -> None:
    listing = subprocess.run([sys.executable, "-m", "emulator", "profiles"], check=True,
                             capture_output=True, text=True).stdout
    assert "ensor-ers" in listing and "DSMR" in listing
    bad = subprocess.run([sys.executable, "-m", "emulator", "--meter", "nonsense"],
                         check=False, capture_output=True, text=True)
    assert bad.returncode == 2
    assert "unknown meter source" in bad.stderr
    unknown = subprocess.run([sys.executable, "-m", "emulator", "--meter", "virtual:nope"],
                             check=False, capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown meter profile" in unknown.stderr
