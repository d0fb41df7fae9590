"""The composition root: the only place that knows every part.

`build_device` makes the device core from a configuration (identity, settings, hardware,
firmware slot in the data dir); `EmulatorApp` adds the meter line and its supervisor, the
HTTP server and the services, starts them in order, stops them in reverse order, and
carries out reboots. The CLI, the tests, the benchmarks (and the fleet and the pytest
plugin to come) all build devices here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from emulator.api import create_app, limits
from emulator.api.control_access import ControlAccess
from emulator.api.control_scenario import check_scenario, start_scenario
from emulator.config import AppConfig
from emulator.device.clock import Clock, ScaledClock, VirtualClock
from emulator.device.core import Device
from emulator.device.errors import SettingsError
from emulator.device.firmware import FirmwareSlot
from emulator.device.hardware import HardwareState
from emulator.device.identity import DeviceIdentity, load_identity
from emulator.device.network import first_start_settings
from emulator.device.settings import device_schemas, sections
from emulator.device.settings.modbus_map import ModbusMapSection
from emulator.device.settings.registry import DeviceSettings
from emulator.device.settings.store import SettingsStore
from emulator.meter.control import VirtualMeterControl
from emulator.meter.line import Line
from emulator.meter.replay_line import ReplayLine
from emulator.meter.serial_line import SerialLine
from emulator.meter.source import MeterSource, SourceKind
from emulator.meter.supervisor import LinkSupervisor
from emulator.meter.virtual_line import VirtualLine
from emulator.runtime.backoff import Backoff
from emulator.runtime.logs import device_log
from emulator.scenarios.model import ScenarioError, read_document
from emulator.services.actions import ActionsRunner
from emulator.services.base import Service
from emulator.services.broker import EmbeddedBroker
from emulator.services.host import ServiceHost
from emulator.services.mdns import MdnsAdvertiser, SharedZeroconf, scope_for
from emulator.services.modbus import ModbusServer
from emulator.services.mqtt import MqttPublisher
from emulator.services.sd_files import CardFiles
from emulator.services.sd_logger import SdLogger
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile

#: A brownout's v_scap falls to this (volts) in this many steps, then the device restarts.
BROWNOUT_V = 2.2
BROWNOUT_STEPS = 10

#: Builds one service of a device (the composition root's list, or a test's).
ServiceFactory = Callable[[Device], Service]


def make_line(source: MeterSource, clock: Clock, seed: int, zone: ZoneInfo) -> Line:
    """The line for a --meter source."""
    if source.kind is SourceKind.VIRTUAL:
        meter = VirtualMeter(get_profile(source.target), seed=seed, start=clock.time(),
                             zone=zone)
        return VirtualLine(meter, clock, seed=seed)
    if source.kind is SourceKind.REPLAY:
        return ReplayLine(Path(source.target), clock)
    return SerialLine(source.target)


def build_device(config: AppConfig, clock: Clock, *, identity: DeviceIdentity | None = None,
                 firmware: FirmwareSlot | None = None) -> Device:
    """The device core for `config`, its state kept in config.data_dir (created if missing).
    `identity` and `firmware` replace the ones kept in the data dir (tests pin them)."""
    data_dir = config.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if identity is None:
        identity = load_identity(data_dir, clock.time(), config.device_id)
    store = SettingsStore(data_dir / "settings")
    settings = DeviceSettings(store, device_schemas(identity.device_id),
                              initial=first_start_settings(identity.device_id))
    hardware = HardwareState.for_device(identity.device_id, sd_card=config.sdcard,
                                        ethernet_cable=config.ethernet)
    if firmware is None:
        firmware = FirmwareSlot(data_dir / "firmware", identity.firmware, identity.model)
    return Device(identity, clock, ZoneInfo(config.timezone), settings, hardware,
                  license_type=config.license.value.upper(), firmware=firmware)


def fleet_device_config(base: AppConfig, *, host: str, port: int, device_id: str,
                        profile: str, seed: int) -> AppConfig:
    """One device of a fleet: the fleet's options with its own listener, id, data dir
    (`<data dir>/<id>/`), virtual meter and seed; the fleet runs the one broker."""
    return dataclasses.replace(
        base, http_host=host, http_port=port, data_dir=base.data_dir / device_id,
        device_id=device_id, meter=MeterSource.parse(f"virtual:{profile}"), seed=seed,
        mqtt_broker=None)


def provision_virtual_meter(device: Device, line: Line) -> None:
    """A virtual meter comes installed: its keys (if it ciphers) and its installer settings
    (a scaler set...) are entered in the meter settings when those are still at their
    factory values; whatever the user has set stands."""
    if not isinstance(line, VirtualLine):
        return
    settings = device.settings
    profile = line.meter.profile
    current = settings.get(sections.METER)
    factory = settings.schemas[sections.METER].defaults()
    changes: dict[str, object] = {key: value for key, value in profile.installer.items()
                                  if current.get(key) == factory.get(key)}
    keys = profile.keys
    if keys is not None and keys.encryption_key and not settings.meter.encryption_key:
        changes.update(encryption=True, encryption_key=keys.encryption_key)
        if keys.authentication_key:
            changes["authentication_key"] = keys.authentication_key
    if changes:
        settings.put(sections.METER, changes)
        device.log.info("virtual meter %s installed: %s entered in the meter settings",
                        profile.name, ", ".join(sorted(changes)))


def sd_logger(config: AppConfig) -> ServiceFactory:
    """The SD-card logger; its card (`<data-dir>/sdcard/`) is also the /sdcard/ port."""
    def make(device: Device) -> Service:
        card = CardFiles(config.data_dir / "sdcard") if config.sdcard else None
        device.ports.sd_card = card
        return SdLogger(device, card)
    return make


def actions_runner(session: aiohttp.ClientSession | None = None) -> ServiceFactory:
    """The actions runner; `session` is a fleet's shared HTTP client (None: its own)."""
    def make(device: Device) -> Service:
        runner = ActionsRunner(device, session)
        device.ports.actions = runner
        return runner
    return make


def modbus_service(config: AppConfig) -> ServiceFactory:
    """The Modbus TCP server, on the HTTP server's address; /api/v1/modbus comes with it."""
    def make(device: Device) -> Service:
        device.ports.modbus_map = ModbusMapSection(device.settings)
        return ModbusServer(device, host=config.http_host)
    return make


def default_services(config: AppConfig, *, zeroconf: SharedZeroconf | None = None,
                     http_port: Callable[[], int] | None = None,
                     session: aiohttp.ClientSession | None = None) -> list[ServiceFactory]:
    """The device's services, in start order: the embedded broker first (so the device's
    own client finds it up), the MQTT publisher, the SD logger, actions, the Modbus server,
    and mDNS last (it announces the Modbus server too). mDNS needs the process's zeroconf
    and the HTTP port actually served (known once the server listens); `session` is a
    fleet's shared HTTP client for actions."""
    factories: list[ServiceFactory] = []
    if config.mqtt_broker is not None:
        host, port = config.http_host, config.mqtt_broker
        factories.append(lambda device: EmbeddedBroker(device, host, port))
    factories += [MqttPublisher, sd_logger(config), actions_runner(session),
                  modbus_service(config)]
    if config.mdns and zeroconf is not None and http_port is not None:
        addresses = scope_for(config.http_host).addresses
        factories.append(lambda device: MdnsAdvertiser(device, zeroconf, http_port,
                                                       addresses))
    return factories


class EmulatorApp:
    """One complete device: core, meter link, HTTP server (unless `http` is False) and
    services.

    `line` replaces the line that config.meter names (a test's own VirtualLine), and
    `line_factory` makes a new line at every reconnection (a test's port); `services`
    replaces the default list; `backoff` paces the meter line's reconnections; `zeroconf`
    is the process's shared mDNS instance (a fleet's; by default the app makes its own);
    `session` the process's shared HTTP client (a fleet's; by default each run makes one).
    """

    def __init__(self, config: AppConfig, clock: Clock | None = None, *,
                 line: Line | None = None, line_factory: Callable[[], Line] | None = None,
                 services: Sequence[ServiceFactory] | None = None,
                 backoff: Backoff | None = None, http: bool = True,
                 identity: DeviceIdentity | None = None,
                 firmware: FirmwareSlot | None = None,
                 zeroconf: SharedZeroconf | None = None,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self.clock = clock or (VirtualClock(config.start_time) if config.manual_clock
                               else ScaledClock(config.speed, config.start_time))
        self.device = build_device(config, self.clock, identity=identity, firmware=firmware)
        self.zone = self.device.zone
        self.log = device_log(__name__, self.device.identity.device_id)
        control = ControlAccess(config.control_enabled, config.control_token)
        self.web = create_app(self.device, auth=config.auth, access=control) \
            if http else None
        self._runner: web.AppRunner | None = None
        self._link_task: asyncio.Task[None] | None = None
        #: The meter link's supervisor while the device runs (its session: the search).
        self.link: LinkSupervisor | None = None
        self._reboot_task: asyncio.Task[None] | None = None
        self._backoff = backoff
        self.device.set_reboot_handler(self._on_reboot_request)
        self.port = 0
        self.meter_line: Line | None = line
        self._make_line: Callable[[], Line]
        if line_factory is not None:
            self._make_line = line_factory
        elif line is not None:
            self._make_line = lambda: line
        else:
            made = make_line(config.meter, self.clock, config.seed, self.zone)
            self.meter_line = made
            # A virtual meter keeps its registers across reconnections; a port is reopened.
            self._make_line = (lambda: made) if isinstance(made, VirtualLine) else (
                lambda: make_line(config.meter, self.clock, config.seed, self.zone))
        if config.provision and self.meter_line is not None:
            provision_virtual_meter(self.device, self.meter_line)
        if isinstance(self.meter_line, VirtualLine):
            self.device.ports.meter_control = VirtualMeterControl(self.meter_line)
        self.device.ports.device_events = self
        self._stopped_services: set[str] = set()  # by the control API, until restarted
        # The process's one zeroconf: a fleet passes its own; a lone device makes it.
        self._owns_zeroconf = zeroconf is None and config.mdns and http
        self.zeroconf = zeroconf or (SharedZeroconf(scope_for(config.http_host).interfaces)
                                     if self._owns_zeroconf else None)
        factories = default_services(
            config, zeroconf=self.zeroconf, http_port=(lambda: self.port) if http else None,
            session=session,
        ) if services is None else services
        self.services = ServiceHost(self.device, [make(self.device) for make in factories])

    @property
    def url(self) -> str:
        return f"http://{self.config.http_host}:{self.port}"

    async def start(self) -> None:
        scenario = None
        if self.config.scenario is not None and self.web is not None:
            # Checked before anything starts: a step this device cannot run stops the start.
            doc = await asyncio.to_thread(read_document, self.config.scenario)
            try:
                scenario = check_scenario(self.web, doc)
            except SettingsError as exc:
                raise ScenarioError(str(exc)) from exc
        if self.web is not None:
            self._runner = web.AppRunner(self.web, access_log=None, **limits.handler_args())
            await self._runner.setup()
            site = limits.LimitedSite(self._runner, self.config.http_host,
                                      self.config.http_port, limit=limits.connection_cap(),
                                      log=self.log)
            await site.start()
            limits.quiet_accept_errors(asyncio.get_running_loop(), self.log)
            server = site._server  # aiohttp keeps the listening sockets here
            if isinstance(server, asyncio.Server) and server.sockets:
                self.port = int(server.sockets[0].getsockname()[1])
            else:
                self.port = self.config.http_port
        await self._start_device()
        self.log.info("serving %s, meter %s", self.url, self.config.meter)
        if scenario is not None and self.web is not None:
            await start_scenario(self.web, scenario)

    async def _start_device(self) -> None:
        """The device's own tasks (meter link, services): at start and after a reboot."""
        self._stopped_services.clear()
        supervisor = self.link = LinkSupervisor(self.device, self._make_line, self._backoff)
        self._link_task = asyncio.get_running_loop().create_task(
            supervisor.run(), name=f"meter link {self.device.identity.device_id}")
        await self.services.start()

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
        if self._owns_zeroconf and self.zeroconf is not None:
            await self.zeroconf.close()

    async def _stop_device(self) -> None:
        await self.services.stop()
        task, self._link_task = self._link_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- reboot (POST /api/v1/reboot, /api/v1/restore, /load) ---------------------------

    def _on_reboot_request(self) -> None:
        if self._reboot_task is None or self._reboot_task.done():
            self._reboot_task = asyncio.get_running_loop().create_task(
                self._reboot(), name=f"reboot {self.device.identity.device_id}")

    async def _reboot(self) -> None:
        """The device reboots, the process stays: its tasks and services stop, the core
        restarts (new boot, counters from zero, a verified firmware now running), the tasks
        and services start again. The HTTP server keeps listening throughout."""
        await self._stop_device()
        try:
            self.device.restart()
        finally:
            await self._start_device()

    # --- the board (POST /emulator/v1/device, /services): the DeviceEvents port --------

    def power_cut(self) -> None:
        self._cycle_power(0.0)

    def brownout(self, seconds: float) -> None:
        self._cycle_power(seconds)

    def _cycle_power(self, sag_s: float) -> None:
        if self._reboot_task is None or self._reboot_task.done():
            self._reboot_task = asyncio.get_running_loop().create_task(
                self._power_cycle(sag_s), name=f"power {self.device.identity.device_id}")

    async def _power_cycle(self, sag_s: float) -> None:
        """The supply goes (at once, or sagging over `sag_s` device seconds with v_scap
        falling as /api/v1/system shows it), the device stops where it stands and starts
        again from what its data dir holds: the settings, written before each write was
        acknowledged, survive; everything in memory (reports, counters, the line's
        search) is gone; a new boot id."""
        hardware = self.device.hardware
        normal = hardware.v_scap
        for step in range(1, BROWNOUT_STEPS + 1 if sag_s > 0 else 0):
            await self.clock.sleep(sag_s / BROWNOUT_STEPS)
            hardware.v_scap = round(normal - (normal - BROWNOUT_V) * step / BROWNOUT_STEPS, 2)
        if sag_s > 0:
            self.log.warning("brownout: v_scap %.2f V, the device restarts", hardware.v_scap)
        else:
            self.log.warning("power cut: the device restarts")
        await self._stop_device()
        hardware.v_scap = normal
        try:
            self.device.restart()
        finally:
            await self._start_device()

    def service_names(self) -> list[str]:
        return [service.name for service in self.services.services]

    async def set_service_running(self, name: str, running: bool) -> None:
        service = self.services.get(name)
        if service is None:
            raise KeyError(name)
        if running != (name in self._stopped_services):
            return  # already as asked
        if running:
            self._stopped_services.discard(name)
        else:
            self._stopped_services.add(name)
        self.log.warning("service %s %s by the control API", name,
                         "started" if running else "stopped")
        await (service.start() if running else service.stop())
