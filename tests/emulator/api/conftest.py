from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.device.core import Device
from tests.support import ManualClock, build_device

ClientFactory = Callable[..., Awaitable[TestClient]]  # type: ignore[type-arg]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(tmp_path: Path, clock: ManualClock) -> Device:
    return build_device(tmp_path, clock)


@pytest.fixture
async def client(aiohttp_client: ClientFactory, device: Device) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(device))
