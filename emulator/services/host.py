"""The host of the device's services: starts them in order, stops them in reverse order,
restarts them on a reboot. A service that raises in start() or stop() is shown FAILED on
the board and logged once; the others and the device go on."""

from __future__ import annotations

from collections.abc import Sequence

from emulator.device.core import Device
from emulator.device.service_status import ServiceState, ServiceStatus
from emulator.runtime.logs import device_log
from emulator.services.base import Service


class ServiceHost:
    def __init__(self, device: Device, services: Sequence[Service] = ()) -> None:
        self.device = device
        self.services: list[Service] = list(services)
        self.log = device_log(__name__, device.identity.device_id)
        self.started = False

    def get(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    async def start(self) -> None:
        self.started = True
        for service in self.services:
            try:
                await service.start()
            except Exception as exc:
                self.log.error("service %s failed to start: %s", service.name, exc)
                self.log.debug("service %s start failure", service.name, exc_info=True)
                self.device.services.set(service.name, ServiceStatus(
                    ServiceState.FAILED, f"failed to start: {exc}",
                    since=self.device.clock.time(),
                    failures=self.device.services.get(service.name).failures + 1))

    async def stop(self) -> None:
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others all the same
                self.log.error("service %s failed to stop cleanly: %s", service.name, exc)
        self.started = False
