"""Issue 16: a scenario file run through the CLI (`--scenario FILE --speed 60`) produces
the meter status sequence it describes, the same on two runs with the same seed. The
statuses are read from the control API's state (the scenario records the meter status at
every change from its start, so nothing is missed between the start and a first request),
and the sequences compared, not their timings."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.api.controls import ACTIONS
from emulator.scenarios.model import collapse, parse_scenario, read_document
from tests.conftest import PROJECT_ROOT
from tests.e2e.conftest import device_url, get_json

pytestmark = pytest.mark.e2e

SCENARIOS = PROJECT_ROOT / "fixtures" / "scenarios"
#: Device seconds watched after the last step (a status that would follow it shows).
AFTER_S = 10.0
WATCH_LIMIT = 60.0  # wall seconds; a hang guard


def expected(doc: dict[str, Any]) -> list[str]:
    return parse_scenario(doc, ACTIONS).expected_statuses


async def record(spawn: Callable[..., Any], tmp_path: Path, scenario: Path,
                 *args: str) -> list[str]:
    doc = await asyncio.to_thread(read_document, scenario)
    last = max(step["at_s"] for step in doc["steps"])
    proc, url = await device_url(spawn, tmp_path, "--speed", "60", "--no-mdns",
                                 "--scenario", str(scenario), *args)
    async with aiohttp.ClientSession() as session:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WATCH_LIMIT
        while True:  # a remote process offers nothing to await: poll its state
            state = (await get_json(session, url + "/emulator/v1/state"))["scenario"]
            if state["finished"] and state["elapsed_s"] >= last + AFTER_S:
                break
            assert loop.time() < deadline, state
            await asyncio.sleep(0.05)
    assert await proc.stop() == 0
    assert state["errors"] == [] and state["done"] == state["total"]
    # From the first status the scenario expects (the start-up search comes before it).
    sequence = collapse(entry["status"] for entry in state["statuses"])
    first = expected(doc)[0]
    assert first in sequence, sequence
    return sequence[sequence.index(first):]


@pytest.mark.parametrize(("name", "meter"), [("meter-unplugged.json", "virtual:ensor-ers"),
                                             ("wrong-key.yaml", "virtual:kaifa-ma309")])
async def test_a_scenario_at_speed_60_gives_its_sequence_twice(
        spawn: Callable[..., Any], tmp_path: Path, name: str, meter: str) -> None:
    scenario = SCENARIOS / name
    runs = [await record(spawn, tmp_path / str(n), scenario, "--meter", meter)
            for n in range(2)]
    want = expected(await asyncio.to_thread(read_document, scenario))
    assert runs[0] == want
    assert runs[1] == runs[0]


@pytest.mark.parametrize(("document", "meter", "why"), [
    ('{"name": "x", "steps": [{"at_s": 1, "do": "teleport"}]}', "virtual:ensor-ers",
     "steps[0].do"),
    ("{", "virtual:ensor-ers", "not valid JSON"),
    # a step this device cannot run: ensor-ers sends in clear, it has no key to change
    ((SCENARIOS / "wrong-key.yaml").read_text(), "virtual:ensor-ers", "sends in clear"),
])
async def test_a_scenario_that_cannot_run_stops_the_start(
        tmp_path: Path, document: str, meter: str, why: str) -> None:
    bad = tmp_path / ("bad.yaml" if "name: " in document else "bad.json")
    bad.write_text(document)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--http", "127.0.0.1:0", "--no-mdns",
        "--data-dir", str(tmp_path / "d"), "--meter", meter, "--scenario", str(bad),
        cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    lines = [line for line in err.decode().splitlines() if "error" in line]
    assert len(lines) == 1 and why in lines[0], err.decode()
    assert "Traceback" not in err.decode()
