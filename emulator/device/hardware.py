"""The simulated hardware around the firmware: supply voltages, Wi-Fi and Ethernet radios,
the microSD card, the clouds. Plausible and stable values derived from the device id, so a
device looks the same every time it starts; the services that simulate change over time
(radio, WPS window) update this state, and /api/v1/system reads it."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace

from meter_protocols.readings import Interface


@dataclass(frozen=True, slots=True)
class WifiState:
    enabled: bool = True
    status: str = "OK"  # OK, Error, Disabled, Disconnected
    mode: str = "STA"
    ssid: str = "HomeNet"
    bssid: str = "3C3786A1B2C4"
    channel: int = 6
    ht: str = "20"
    rssi: int = -52
    auth_mode: str = "WPA2-WPA3"
    pairwise_cipher: str = "CCMP"
    group_cipher: str = "CCMP"
    phy: str = "bgn"
    wps: bool = False
    country: str = "CH"
    ip: str = "192.168.1.50"
    mask: str = "255.255.255.0"
    gateway: str = "192.168.1.1"
    dns: str = "192.168.1.1"

    @property
    def signal(self) -> int:
        """Signal quality in percent from RSSI, as ESP32 firmwares commonly map it; 0 while
        not joined to a network."""
        if self.status != "OK":
            return 0
        return max(0, min(100, 2 * (self.rssi + 100)))


@dataclass(frozen=True, slots=True)
class EthernetState:
    enabled: bool = True
    up: bool = False
    ip: str = "0.0.0.0"  # noqa: S104 - an address shown, not bound
    mask: str = "0.0.0.0"  # noqa: S104
    gateway: str = "0.0.0.0"  # noqa: S104
    dns: str = "0.0.0.0"  # noqa: S104


@dataclass(frozen=True, slots=True)
class SdCardState:
    installed: bool = True
    type: str = "SDHC/SDXC"
    size: int = 7618  # MiB, as the device reports it
    speed: int = 20  # MHz


@dataclass(frozen=True, slots=True)
class PlugVoltages:
    v_usb: float
    v_mbus: float
    v_p1: float
    v_scap: float


@dataclass
class HardwareState:
    """Mutable state of the simulated board; only the core and the radio service write it."""

    seed: int
    wifi: WifiState = field(default_factory=WifiState)
    ethernet: EthernetState = field(default_factory=EthernetState)
    sd_card: SdCardState = field(default_factory=SdCardState)
    usb_powered: bool = True
    ethernet_cable: bool = False  # a cable in the RJ45 port, to the home router
    v_scap: float = 4.87  # the supercapacitor's voltage (falls in a brownout)

    @classmethod
    def for_device(cls, device_id: str, sd_card: bool = True,
                   ethernet_cable: bool = False) -> HardwareState:
        seed = int(hashlib.sha256(device_id.encode()).hexdigest()[:12], 16)
        rng = random.Random(seed)
        host = 20 + rng.randrange(200)
        wifi = WifiState(
            bssid=f"3C3786{rng.randrange(1 << 24):06X}",
            channel=rng.choice((1, 6, 11, 13)),
            rssi=-45 - rng.randrange(20),
            ip=f"192.168.1.{host}",
        )
        card = SdCardState() if sd_card else SdCardState(installed=False, type="", size=0,
                                                         speed=0)
        return cls(seed=seed, wifi=wifi, sd_card=card, ethernet_cable=ethernet_cable)

    def plug(self, interface: Interface) -> PlugVoltages:
        """Supply voltages as the board measures them, by which meter port is in use."""
        return PlugVoltages(
            v_usb=5.16 if self.usb_powered else 0.0,
            v_mbus=13.94 if interface is Interface.MBUS else 0.0,
            v_p1=5.23 if interface is Interface.P1 else 2.83,
            v_scap=self.v_scap,
        )

    def set_wifi(self, **changes: object) -> None:
        self.wifi = replace(self.wifi, **changes)  # type: ignore[arg-type]

    def set_ethernet(self, **changes: object) -> None:
        self.ethernet = replace(self.ethernet, **changes)  # type: ignore[arg-type]
