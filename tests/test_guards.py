"""The suite's own guards must be able to fail: a blocking call from the emulator's code on
the event loop is caught (tests/conftest.py `_no_blocking_calls`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from blockbuster import BlockingError

from tests.support import ManualClock, build_device


async def test_a_blocking_settings_write_on_the_loop_is_caught(tmp_path: Path) -> None:
    device = build_device(tmp_path, ManualClock())
    with pytest.raises(BlockingError):
        device.settings.put("settings", {"system": {"name": "blocking"}})  # fsync on the loop


async def test_the_async_write_goes_through_a_thread(tmp_path: Path) -> None:
    device = build_device(tmp_path, ManualClock())
    public = await device.settings.aput("settings", {"system": {"name": "in a thread"}})
    assert public["system"]["name"] == "in a thread"
    assert device.settings.system.name == "in a thread"
