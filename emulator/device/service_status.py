"""The status board: what each long-running service of the device says about itself.

Services (MQTT publisher, SD-card logger, Modbus server, mDNS advertiser, actions runner)
publish a typed `ServiceStatus` here; `/api/v1/system` (clouds.mqtc, sd_card, ...), the
diagnostics and the web UI read it. The board is the only shared state between a service
and the rest of the device: a service never reaches into another one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

_LOG = logging.getLogger(__name__)

#: Names of the device's services, as the board knows them.
MQTT: Final = "mqtt"
SD_CARD: Final = "sd_card"
ACTIONS: Final = "actions"
MODBUS: Final = "modbus"
MDNS: Final = "mdns"
BROKER: Final = "broker"


class ServiceState(StrEnum):
    STOPPED = "stopped"  # not started, or stopped (shutdown, reboot)
    DISABLED = "disabled"  # off by its settings, its licence or a missing part (no card)
    STARTING = "starting"
    RUNNING = "running"  # doing its job: connected, serving, logging
    RETRYING = "retrying"  # it failed and will try again after a backoff
    FAILED = "failed"  # it cannot run (start raised); a reboot tries again


Fact = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    state: ServiceState = ServiceState.STOPPED
    detail: str = ""  # in words, for a user: why it is not running, what it does
    since: float = 0.0  # device clock (epoch seconds) of the last change of state
    failures: int = 0  # failures since the device booted
    #: Service-specific facts (e.g. the broker's address, the card's size), flat.
    facts: Mapping[str, Fact] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def running(self) -> bool:
        return self.state is ServiceState.RUNNING

    def to_json(self) -> dict[str, Fact | dict[str, Fact]]:
        return {"state": self.state.value, "detail": self.detail, "since": self.since,
                "failures": self.failures, "facts": dict(self.facts)}


Listener = Callable[[str, ServiceStatus], None]

_UNKNOWN: Final = ServiceStatus()


class StatusBoard:
    def __init__(self) -> None:
        self._status: dict[str, ServiceStatus] = {}
        self._listeners: list[Listener] = []

    def get(self, name: str) -> ServiceStatus:
        """The service's status; STOPPED for a service that never said anything."""
        return self._status.get(name, _UNKNOWN)

    def set(self, name: str, status: ServiceStatus) -> None:
        old = self._status.get(name)
        self._status[name] = status
        if old != status:
            for listener in list(self._listeners):
                try:
                    listener(name, status)
                except Exception:  # noqa: BLE001 - a broken listener must not stop the board
                    _LOG.exception("service status listener %r failed", listener)

    def all(self) -> dict[str, ServiceStatus]:
        return dict(sorted(self._status.items()))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
