"""The composition root: the only place that knows every part. Builds the device from an
AppConfig, starts its meter link, HTTP server and services, and stops them in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from emulator.api import create_app
from emulator.config import AppConfig
from emulator.device.clock import Clock, ScaledClock
from emulator.device.core import Device
from emulator.device.firmware import FirmwareSlot
from emulator.device.hardware import HardwareState
from emulator.device.identity import load_identity
from emulator.device.network import first_start_settings
from emulator.device.settings import device_schemas
from emulator.device.settings.registry import DeviceSettings
from emulator.device.settings.store import SettingsStore
from emulator.meter.control import VirtualMeterControl
from emulator.meter.line import Line
from emulator.meter.replay_line import ReplayLine
from emulator.meter.serial_line import SerialLine
from emulator.meter.source import MeterSource, SourceKind
from emulator.meter.supervisor import LinkSupervisor
from emulator.meter.virtual_line import VirtualLine
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile

_LOG = logging.getLogger(__name__)


def make_line(source: MeterSource, clock: Clock, seed: int, zone: ZoneInfo) -> Line:
    """The line for a --meter source."""
    if source.kind is SourceKind.VIRTUAL:
        meter = VirtualMeter(get_profile(source.target), seed=seed, start=clock.time(),
                             zone=zone)
        return VirtualLine(meter, clock, seed=seed)
    if source.kind is SourceKind.REPLAY:
        return ReplayLine(Path(source.target), clock)
    return SerialLine(source.target)


def provision_virtual_meter(settings: DeviceSettings, line: Line) -> None:
    """A virtual meter comes installed: its keys (if it ciphers) and its installer settings
    (a scaler set...) are entered in the meter settings when those are still at their
    factory values; whatever the user has set stands."""
    if not isinstance(line, VirtualLine):
        return
    profile = line.meter.profile
    current = settings.get("meter")
    factory = settings.schemas["meter"].defaults()
    changes: dict[str, object] = {key: value for key, value in profile.installer.items()
                                  if current.get(key) == factory.get(key)}
    keys = profile.keys
    if keys is not None and keys.encryption_key and not current["encryption_key"]:
        changes.update(encryption=True, encryption_key=keys.encryption_key)
        if keys.authentication_key:
            changes["authentication_key"] = keys.authentication_key
    if changes:
        settings.put("meter", changes)
        _LOG.info("virtual meter %s installed: %s entered in the meter settings",
                  profile.name, ", ".join(sorted(changes)))


class EmulatorApp:
    def __init__(self, config: AppConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or ScaledClock(config.speed, config.start_time)
        self.zone = ZoneInfo(config.timezone)
        data_dir = config.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        identity = load_identity(data_dir, self.clock.time(), config.device_id)
        store = SettingsStore(data_dir / "settings")
        settings = DeviceSettings(store, device_schemas(identity.device_id),
                                  initial=first_start_settings(identity.device_id))
        hardware = HardwareState.for_device(identity.device_id, sd_card=config.sdcard,
                                            ethernet_cable=config.ethernet)
        firmware = FirmwareSlot(data_dir / "firmware", identity.firmware, identity.model)
        self.device = Device(identity, self.clock, self.zone, settings, hardware,
                             license_type=config.license.value.upper(), firmware=firmware)
        self.web = create_app(self.device, auth=config.auth)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._reboot_task: asyncio.Task[None] | None = None
        self.device.set_reboot_handler(self._on_reboot_request)
        self.port = 0
        self._meter_line = make_line(config.meter, self.clock, config.seed, self.zone)
        provision_virtual_meter(settings, self._meter_line)
        if isinstance(self._meter_line, VirtualLine):
            self.device.meter_control = VirtualMeterControl(self._meter_line)

    @property
    def url(self) -> str:
        return f"http://{self.config.http_host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.web, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.http_host, self.config.http_port)
        await site.start()
        server = site._server  # aiohttp keeps the listening sockets here
        if isinstance(server, asyncio.Server) and server.sockets:
            self.port = int(server.sockets[0].getsockname()[1])
        else:
            self.port = self.config.http_port
        self._start_device()
        _LOG.info("device %s serving %s, meter %s", self.device.identity.device_id, self.url,
                  self.config.meter)

    def _start_device(self) -> None:
        """The device's own tasks (meter link, services): at start and after a reboot."""
        supervisor = LinkSupervisor(self.device, self._line)
        self._tasks.append(asyncio.get_running_loop().create_task(supervisor.run(),
                                                                  name="meter link"))

    def _line(self) -> Line:
        # A virtual meter keeps its registers across reconnections; a port is reopened.
        if isinstance(self._meter_line, VirtualLine):
            return self._meter_line
        return make_line(self.config.meter, self.clock, self.config.seed, self.zone)

    async def stop(self) -> None:
        if self._reboot_task is not None:
            self._reboot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reboot_task
            self._reboot_task = None
        await self._stop_device()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _stop_device(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # --- reboot (POST /api/v1/reboot, /api/v1/restore, /load) ---------------------------

    def _on_reboot_request(self) -> None:
        if self._reboot_task is None or self._reboot_task.done():
            self._reboot_task = asyncio.get_running_loop().create_task(self._reboot(),
                                                                       name="reboot")

    async def _reboot(self) -> None:
        """The device reboots, the process stays: its tasks stop, the core restarts (new
        boot, counters from zero, a verified firmware now running), the tasks start again.
        The HTTP server keeps listening throughout."""
        await self._stop_device()
        try:
            self.device.restart()
        finally:
            self._start_device()
