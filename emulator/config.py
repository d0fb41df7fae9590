"""AppConfig: everything the command line (or its environment variables) decides."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from emulator.meter.source import MeterSource


class AuthMode(StrEnum):
    DIGEST = "digest"  # firmware 1.10 and later
    BASIC = "basic"  # earlier firmware
    BOTH = "both"  # Digest challenge first, Basic accepted too


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class License(StrEnum):
    FREE = "free"
    PLUS = "plus"
    PRO = "pro"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "whatwatt-emulator"


@dataclass(frozen=True, slots=True)
class AppConfig:
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    data_dir: Path = field(default_factory=default_data_dir)
    meter: MeterSource = field(default_factory=lambda: MeterSource.parse("virtual:ensor-ers"))
    device_id: str | None = None
    sdcard: bool = True
    mdns: bool = True
    speed: float = 1.0
    seed: int = 1
    timezone: str = "Europe/Zurich"
    start_time: float | None = None  # the clock's start (epoch seconds); None: now
    auth: AuthMode = AuthMode.BOTH
    license: License = License.PLUS
    #: The emulator's steering routes (/emulator/v1/: meter faults and values, the clock):
    #: None (auto) = on only when HTTP is bound to a loopback address; a token, when set,
    #: turns them on and must come with every steering request (X-Emulator-Token).
    control_api: bool | None = None
    control_token: str = ""
    ethernet: bool = False  # an Ethernet cable plugged in (the link is up when enabled)
    #: A virtual meter comes installed (its keys entered at first start); off, the
    #: meter settings stay at factory values (to show KEY REQUIRED, for example).
    provision: bool = True
    #: --mqtt-broker PORT: an embedded MQTT broker on the HTTP host (0: a free port).
    mqtt_broker: int | None = None
    #: --clock manual: device time moves only when told (POST /emulator/v1/clock
    #: {"advance_s"}, the pytest plugin's advance()); else it runs at `speed`.
    manual_clock: bool = False
    #: --scenario FILE: timed control steps run from the start (JSON or YAML).
    scenario: Path | None = None

    @property
    def control_enabled(self) -> bool:
        if self.control_token:
            return self.control_api is not False
        if self.control_api is None:
            return is_loopback(self.http_host)
        return self.control_api
