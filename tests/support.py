"""Test helpers shared across the suite: a hand-driven clock, a device on a temp data dir,
decoded readings of a virtual meter, examples lifted from the documentation, snapshots."""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from emulator.app import build_device as build_core
from emulator.config import AppConfig, License
from emulator.device.core import Device
from emulator.device.firmware import FirmwareSlot
from emulator.device.identity import DeviceIdentity
from emulator.device.network import first_start_settings
from emulator.device.settings import device_schemas
from emulator.device.settings.registry import DeviceSettings
from emulator.device.settings.store import SettingsStore
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.readings import FrameDecoded, MeterReading
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from tests.conftest import PROJECT_ROOT, spec_file

ZURICH = ZoneInfo("Europe/Zurich")
#: Wednesday 22 January 2025 11:54:02 in Zurich: the moment of the manual's Ensor example.
ENSOR_MOMENT = datetime(2025, 1, 22, 11, 54, 2, tzinfo=ZURICH).timestamp()
DEVICE_ID = "A842E39F8124"  # the manual's example device


class ManualClock:
    """A Clock whose time moves only when a test says so."""

    def __init__(self, start: float = ENSOR_MOMENT) -> None:
        self._wall0 = start
        self._mono = 0.0
        self._changed = asyncio.Event()

    @property
    def speed(self) -> float:
        return 1.0

    def time(self) -> float:
        return self._wall0 + self._mono

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.time() + seconds)

    async def sleep_until(self, when: float) -> None:
        while self.time() < when:
            await self._changed.wait()

    def set_time(self, when: float) -> None:
        self._wall0 = when - self._mono


def device_settings(data_dir: Path, device_id: str = DEVICE_ID) -> DeviceSettings:
    """Every settings section the emulator has, in DATA_DIR/settings, as app.py builds them."""
    return DeviceSettings(SettingsStore(data_dir / "settings"), device_schemas(device_id),
                          initial=first_start_settings(device_id))


def build_device(data_dir: Path, clock: Any, device_id: str = DEVICE_ID, *,
                 license_type: str = "PLUS", ethernet_cable: bool = False,
                 firmware: FirmwareSlot | None = None) -> Device:
    """A device core as the composition root builds it, with a pinned identity (created a
    month before the Ensor example) and, unless given, an in-memory firmware slot."""
    identity = DeviceIdentity(device_id, created=ENSOR_MOMENT - 86400 * 30)
    config = AppConfig(data_dir=data_dir, device_id=device_id, timezone=ZURICH.key,
                       license=License(license_type.lower()), ethernet=ethernet_cable)
    return build_core(config, clock, identity=identity,
                      firmware=firmware or FirmwareSlot(None, identity.firmware, identity.model))


def ensor_readings(count: int, seed: int = 1, start: float = ENSOR_MOMENT,
                   profile: str = "ensor-ers") -> list[MeterReading]:
    meter = VirtualMeter(get_profile(profile), seed=seed, start=start, zone=ZURICH)
    decoder = DsmrDecoder(ZURICH)
    out = []
    for _ in range(count):
        due = meter.next_push_at()
        assert due is not None
        out += [e.reading for e in decoder.feed(meter.push(due)) if isinstance(e, FrameDecoded)]
    return out


def doc_json_blocks(relative: str) -> list[Any]:
    """The ```json examples of a page of the newer documentation, parsed."""
    text = spec_file("whatwatt-docs", "docs", relative).read_text("utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, re.S)]


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every path of an object's keys ("report.voltage.l1"); list items as "[]"."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= key_paths(inner, path)
    elif isinstance(value, list):
        for inner in value:
            paths |= key_paths(inner, f"{prefix}[]")
    return paths


SNAPSHOTS = PROJECT_ROOT / "tests" / "snapshots"


def assert_snapshot(name: str, value: Any) -> None:
    """Compare with tests/snapshots/NAME.json; UPDATE_SNAPSHOTS=1 rewrites it instead."""
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(value, indent=1, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        return
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert json.loads(path.read_text("utf-8")) == json.loads(text), f"snapshot {name} differs"


async def wait_status(device: Device, *wanted: str, timeout: float = 10.0) -> str:
    """Await the device's meter status becoming one of `wanted` (checked at once, then at
    every change)."""
    if device.meter.status.value in wanted:
        return device.meter.status.value
    loop = asyncio.get_running_loop()
    reached: asyncio.Future[str] = loop.create_future()

    def listener(status: Any) -> None:
        if status.value in wanted and not reached.done():
            reached.set_result(status.value)

    remove = device.on_status(listener)
    try:
        return await asyncio.wait_for(reached, timeout)
    finally:
        remove()


async def next_report(device: Device, timeout: float = 10.0) -> Any:
    sub = device.reports.subscribe()
    try:
        return await asyncio.wait_for(sub.get(), timeout)
    finally:
        sub.close()
