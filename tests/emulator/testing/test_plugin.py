"""The pytest plugin: a client developer's test file using only its fixtures passes (run
by pytester in a child pytest, the way a project that installed the package runs it);
markers and the factory choose each device; devices are gone after the test; an async
test reaches the same device."""

from __future__ import annotations

import re
import socket
import urllib.parse
from pathlib import Path

import aiohttp
import pytest

from emulator.testing import DeviceOptions, WhatwattDevice
from emulator.testing.plugin import Factory
from tests.conftest import PROJECT_ROOT

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).with_name("client_example.py")


def test_a_client_test_file_using_only_the_fixtures_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_client=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    # The wall time is printed for whoever reads the log (bench/ measures; no assertion).
    print(*(line for line in result.outlines if "wall time" in line))


def test_the_readmes_example_passes(pytester: pytest.Pytester) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index("## Using it as a mock in your tests"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's section has no example"
    pytester.makepyfile(test_readme=match.group(1))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.whatwatt(profile="lg-e570", license="free", seed=9, device_id="A842E3000001")
def test_the_marker_chooses_the_device(whatwatt_device: WhatwattDevice) -> None:
    state = whatwatt_device.state()
    assert state["device"]["license"] == "FREE"
    assert state["device"]["id"] == "A842E3000001"
    assert state["meter"]["virtual_meter"]["profile"] == "lg-e570"
    assert state["meter"]["link"]["status"] == "OK"  # reached before the test began


def test_the_factory_makes_devices_that_differ_by_seed(whatwatt_factory: Factory) -> None:
    one, two, again = (whatwatt_factory(seed=seed) for seed in (1, 2, 1))
    power = [device.report()["report"]["instantaneous_power"] for device in (one, two, again)]
    assert power[0] == power[2]
    assert power[0] != power[1]
    assert len({one.url, two.url, again.url}) == 3


def test_a_stopped_device_frees_its_port(tmp_path: Path) -> None:
    device = WhatwattDevice(tmp_path, DeviceOptions(wait_for=None))
    with device:
        port = urllib.parse.urlsplit(device.url).port
        assert device.get("/api/v1/system").status == 200
    assert port is not None
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_device_that_cannot_start_says_why(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(RuntimeError, match="did not start"):
        WhatwattDevice(blocked, DeviceOptions()).start()


def test_waiting_for_a_status_that_never_comes_gives_up(
        whatwatt_device: WhatwattDevice) -> None:
    with pytest.raises(TimeoutError, match="stayed 'OK'"):
        whatwatt_device.wait_for_status("KEY REQUIRED", within_s=5)


async def test_an_async_test_reaches_the_same_device(whatwatt_device: WhatwattDevice) -> None:
    async with aiohttp.ClientSession() as session, \
            session.get(whatwatt_device.url + "/api/v1/report") as answer:
        assert answer.status == 200
        report = await answer.json()
    assert report["meter"]["status"] == "OK"
