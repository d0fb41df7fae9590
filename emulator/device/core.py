"""The device core: identity, boot, clock, meter status, latest report, and the hub.

The link supervisor (emulator.meter) tells the core what happens on the line; the core
turns decoded frames into reports, keeps the meter status machine, and hands each report
to the hub. The API and the services read the core through this public interface only.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from emulator.device.clock import Clock
from emulator.device.firmware import FirmwareSlot
from emulator.device.hardware import HardwareState
from emulator.device.hub import Hub
from emulator.device.identity import BootInfo, DeviceIdentity
from emulator.device.network import Network
from emulator.device.ports import Ports
from emulator.device.service_status import StatusBoard
from emulator.device.settings.registry import DeviceSettings
from emulator.device.status import (
    DETECTOR_EVENTS,
    PROBLEM_EVENTS,
    LinkEvent,
    MeterStatus,
    StatusMachine,
)
from emulator.device.values import Report
from emulator.runtime.logs import device_log
from meter_protocols.readings import (
    Event,
    FrameDecoded,
    Interface,
    MeterProtocol,
    MeterReading,
    Problem,
    ProblemKind,
)

_LOG = logging.getLogger(__name__)

#: Problems of one kind are logged at most once per this many seconds.
PROBLEM_LOG_PERIOD = 60.0


@dataclass
class MeterLink:
    """What the device knows about the meter line right now."""

    status: MeterStatus = MeterStatus.NOT_CONNECTED
    interface: Interface = Interface.NONE
    protocol: MeterProtocol | None = None
    reading: MeterReading | None = None
    last_frame_mono: float | None = None
    interval: float | None = None
    frames: int = 0
    problems: Counter[ProblemKind] = field(default_factory=Counter)
    failures: int = 0  # unexpected exceptions caught at the link session's boundary
    last_problem: Problem | None = None  # the latest problem of the meter's input
    encrypted: bool = False
    authenticated: bool = False
    line: str = ""  # the port and its settings, in words
    message: str = ""  # what the link's search says, in words a user understands


class Device:
    def __init__(self, identity: DeviceIdentity, clock: Clock, zone: ZoneInfo,
                 settings: DeviceSettings, hardware: HardwareState, *,
                 license_type: str = "PLUS", firmware: FirmwareSlot | None = None) -> None:
        self.firmware = firmware or FirmwareSlot(None, identity.firmware, identity.model)
        self.identity = replace(identity, firmware=self.firmware.running)
        self.clock = clock
        self.zone = zone
        self.settings = settings
        self.hardware = hardware
        self.license_type = license_type
        self.log = device_log(__name__, identity.device_id)
        self.reports: Hub[Report] = Hub()
        self.boot = BootInfo.new(clock.time(), clock.monotonic())
        self.last_reboot = self.boot.wall
        self.meter = MeterLink()
        self.status = StatusMachine(self.log, self.meter)
        self.latest: Report | None = None
        self._report_id = 0
        self._problem_logged: dict[ProblemKind, float] = {}
        #: What each service says about itself (/api/v1/system reads it).
        self.services = StatusBoard()
        #: Set by the composition root: the meter control, the services' ports.
        self.ports = Ports()
        #: The simulated radios, kept in step with the wifi/eth/settings sections.
        self.network = Network(settings, hardware, clock)
        self.reboot_pending = False
        self._reboot_handler: Callable[[], None] | None = None
        self._restart_listeners: list[Callable[[], None]] = []

    @property
    def licensed(self) -> bool:
        """Plus or higher: the licensed endpoints and services are available."""
        return self.license_type != "FREE"

    def on_status(self, listener: Callable[[MeterStatus], None]) -> Callable[[], None]:
        """Call `listener(new_status)` at every meter status change; returns an unsubscriber."""
        return self.status.subscribe(listener)

    # --- time -------------------------------------------------------------------------

    def uptime(self) -> float:
        return self.clock.monotonic() - self.boot.mono

    # --- what the link supervisor reports -----------------------------------------------

    def link_lost(self, reason: str) -> None:
        if self.meter.status is not MeterStatus.NOT_CONNECTED:
            self.log.warning("meter line lost: %s", reason)
        self._transition(LinkEvent.LINE_LOST)
        self.meter.interface = Interface.NONE
        self.meter.last_frame_mono = None

    def link_searching(self, line: str) -> None:
        self.meter.line = line
        self._transition(LinkEvent.SEARCHING)

    def link_listening(self, interface: Interface, line: str) -> None:
        self.meter.interface = interface
        self.meter.line = line
        self._transition(LinkEvent.LISTENING)

    def link_status(self, status: MeterStatus, message: str) -> None:
        """The link's detector says what it sees (RECOGNITION, NOT RECOGNIZED, ...)."""
        self.meter.message = message
        self._transition(DETECTOR_EVENTS[status])

    def diagnostics(self) -> dict[str, Any]:
        """The meter link in detail, for /emulator/v1/meter: status, line, what the search
        tried and saw, problems counted by kind."""
        link = self.meter
        source = self.ports.link_diagnostics
        return {
            "status": link.status.value,
            "message": link.message,
            "interface": link.interface.value,
            "line": link.line,
            "frames": link.frames,
            "layout": link.reading.layout if link.reading else "",
            "problems": {kind.value: count for kind, count in sorted(link.problems.items())},
            "last_problem": None if link.last_problem is None else {
                "kind": link.last_problem.kind.value, "detail": link.last_problem.detail,
                "data": link.last_problem.data.hex(" ")},
            "failures": link.failures,
            "detection": source() if source is not None else None,
        }

    def set_security(self, encrypted: bool, authenticated: bool) -> None:
        self.meter.encrypted = encrypted
        self.meter.authenticated = authenticated

    def on_event(self, event: Event, interface: Interface | None = None) -> Report | None:
        """A decoder event from the line. Returns the new report for a decoded frame."""
        if isinstance(event, FrameDecoded):
            return self._on_frame(event.reading, interface)
        self._on_problem(event)
        return None

    # --- restart ------------------------------------------------------------------------

    def set_reboot_handler(self, handler: Callable[[], None] | None) -> None:
        """Who carries out a requested reboot: the composition root stops the device's
        tasks, calls restart() and starts them again. Without one, restart() runs at once."""
        self._reboot_handler = handler

    def request_reboot(self, reason: str) -> None:
        """Ask for a reboot (POST /api/v1/reboot, /restore, /load). Requests made while one
        is pending are the same reboot."""
        if self.reboot_pending:
            return
        self.log.info("reboot requested: %s", reason)
        if self._reboot_handler is None:
            self.restart()
            return
        self.reboot_pending = True
        self._reboot_handler()

    def on_restart(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` after every restart; returns an unsubscriber."""
        self._restart_listeners.append(listener)
        return lambda: self._restart_listeners.remove(listener)

    async def factory_reset(self) -> None:
        """Every settings section back to factory values; the identity (device id, licence)
        and the installed firmware stay. The caller then asks for a reboot."""
        self.log.warning("factory reset")
        await self.settings.afactory_reset()

    def restart(self) -> None:
        """A reboot of the device: new boot id, counters from zero, the line found anew,
        open report streams ended, a verified firmware update now running."""
        self.identity = replace(self.identity, firmware=self.firmware.boot())
        self.boot = BootInfo.new(self.clock.time(), self.clock.monotonic())
        self.last_reboot = self.boot.wall
        self.meter = MeterLink()
        self.status.rebind(self.meter)
        self.latest = None
        self._report_id = 0
        self._problem_logged.clear()
        self.reports.end_all()
        self.network.restart()
        self.reboot_pending = False
        self.log.info("device restarted: boot %s, firmware %s", self.boot.boot_id,
                  self.identity.firmware)
        for listener in list(self._restart_listeners):
            listener()

    # --- internals ----------------------------------------------------------------------

    def _on_frame(self, reading: MeterReading, interface: Interface | None) -> Report:
        mono = self.clock.monotonic()
        link = self.meter
        interval = 0.0 if link.last_frame_mono is None else mono - link.last_frame_mono
        if link.last_frame_mono is not None:
            link.interval = interval
        link.last_frame_mono = mono
        link.frames += 1
        link.reading = reading
        link.protocol = reading.protocol
        if interface is not None:
            link.interface = interface
        self._report_id += 1
        meter_settings = self.settings.meter
        report = Report(
            id=self._report_id,
            interval=interval,
            received_at=self.clock.time(),
            reading=reading,
            interface=link.interface,
            conv_factor=meter_settings.conv_factor,
            time_offset=meter_settings.time_offset,
        )
        self.latest = report
        self._transition(LinkEvent.FRAME)
        self.reports.publish(report)
        return report

    def _on_problem(self, problem: Problem) -> None:
        self.meter.problems[problem.kind] += 1
        self.meter.last_problem = problem
        status_event = PROBLEM_EVENTS.get(problem.kind)
        if status_event is not None:
            self._transition(status_event)
        now = self.clock.monotonic()
        last = self._problem_logged.get(problem.kind)
        if last is None or now - last >= PROBLEM_LOG_PERIOD:
            self._problem_logged[problem.kind] = now
            self.log.warning("meter input problem %s (%d so far): %s", problem.kind.value,
                             self.meter.problems[problem.kind], problem.detail)
            if problem.data:
                self.log.debug("offending bytes: %s", problem.data.hex(" "))

    def _transition(self, event: LinkEvent) -> None:
        self.status.handle(event)
