"""`--clock manual` through the CLI: device time stands still until POST
/emulator/v1/clock {"advance_s": S} moves it, and the frames due meanwhile are reported
when the answer comes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import device_url, get_json

pytestmark = pytest.mark.e2e


async def test_device_time_moves_only_when_advanced(spawn: Callable[..., Any],
                                                    tmp_path: Path) -> None:
    proc, url = await device_url(spawn, tmp_path, "--clock", "manual", "--no-mdns",
                                 "--start-time", "2025-01-22T11:54:00+01:00")
    async with aiohttp.ClientSession() as session:
        clock = await get_json(session, url + "/emulator/v1/clock")
        assert clock["mode"] == "manual"
        assert await get_json(session, url + "/emulator/v1/clock") == clock  # stands still
        assert (await get_json(session, url + "/emulator/v1/state"))["meter"]["link"][
            "frames"] == 0
        async with session.post(url + "/emulator/v1/clock", json={"advance_s": 10.5}) as r:
            assert r.status == 200
            after = await r.json()
        moved = (datetime.fromisoformat(after["time"])
                 - datetime.fromisoformat(clock["time"])).total_seconds()
        assert moved == pytest.approx(10.5)
        state = await get_json(session, url + "/emulator/v1/state")
        assert state["meter"]["link"]["status"] == "OK"
        assert state["meter"]["link"]["frames"] >= 9  # one a second, found within a second
        report = await get_json(session, url + "/api/v1/report")
        assert report["meter"]["status"] == "OK"
    assert await proc.stop() == 0
