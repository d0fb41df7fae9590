"""The pytest plugin (entry point `pytest11: whatwatt`).

    def test_report(whatwatt_device):                      # defaults: ensor-ers, PLUS,
        assert whatwatt_device.report()["meter"]["status"] == "OK"   # manual clock

    @pytest.mark.whatwatt(profile="lg-e570", license="free")
    def test_free(whatwatt_device): ...

    def test_two(whatwatt_factory):
        a = whatwatt_factory(seed=1); b = whatwatt_factory(seed=2, clock="scaled", speed=60)

The factory takes DeviceOptions' keywords; every device it made is stopped after the test.
The helpers block (plain HTTP); the device runs on its own loop, so an async test may call
them directly (a few milliseconds each) or use `device.url` with its own client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.testing.device import DeviceOptions, WhatwattDevice

Factory = Callable[..., WhatwattDevice]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "whatwatt(**options): options of the whatwatt_device fixture (profile, "
        "license, password, seed, start_time, clock, speed, timezone, device_id, auth, "
        "wait_for)")


@pytest.fixture
def whatwatt_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Factory]:
    """Makes started devices: `whatwatt_factory(profile=..., license=..., ...)`."""
    made: list[WhatwattDevice] = []

    def make(**options: Any) -> WhatwattDevice:
        device = WhatwattDevice(tmp_path_factory.mktemp("whatwatt"), DeviceOptions(**options))
        made.append(device)
        return device.start()

    yield make
    for device in reversed(made):
        device.stop()


@pytest.fixture
def whatwatt_device(request: pytest.FixtureRequest, whatwatt_factory: Factory) -> WhatwattDevice:
    """A started device, with the options of the test's `@pytest.mark.whatwatt(...)`."""
    marker = request.node.get_closest_marker("whatwatt")
    return whatwatt_factory(**(marker.kwargs if marker else {}))
