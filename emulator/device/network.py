"""The simulated radios: the Wi-Fi networks in range, what joining one gives, the Ethernet
port, and the WPS pairing window.

Nothing is ever sent anywhere. The state follows the settings the way the device's would:
the core recomputes it whenever the `wifi`, `eth` or `settings` section changes, so
/api/v1/system and the wifi.* and eth.* variables always agree with the settings.

- Wi-Fi client disabled (or its settings deleted): status Disabled, mode OFF, no address.
- A network name that is not in range: status Disconnected (the client keeps looking).
- A secured network with no password: status Error (the handshake fails). Any valid
  password joins: the emulator cannot know the simulated router's key.
- Joined: the access point's radio values, and the address from DHCP (stable per device
  and network) or the static one from the settings.
- Ethernet: the port is enabled when the settings enable it, the board is USB-powered and
  power save is off (the newer settings page's decision tree); the link is up when the
  port is enabled and a cable is plugged in (`HardwareState.ethernet_cable`).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace

from emulator.device.clock import Clock
from emulator.device.errors import SettingsError
from emulator.device.hardware import EthernetState, HardwareState, WifiState
from emulator.device.settings import sections
from emulator.device.settings.fields import Json
from emulator.device.settings.registry import DeviceSettings

#: How long a WPS pairing window stays open (manual 6.9: two minutes).
WPS_WINDOW = 120.0

_ZERO = "0.0.0.0"  # noqa: S104 - an address shown, not bound
_MASK = "255.255.255.0"


@dataclass(frozen=True, slots=True)
class AccessPoint:
    """One network in range, as a scan shows it."""

    ssid: str
    bssid: str
    channel: int
    rssi: int
    auth_mode: str = "WPA2"
    pairwise_cipher: str = "CCMP"
    group_cipher: str = "CCMP"
    ht: str = "20"
    phy: str = "bgn"
    wps: bool = False
    country: str = "CH"
    subnet: int = 1  # third octet of the addresses its DHCP server hands out

    @property
    def signal(self) -> int:
        return max(0, min(100, 2 * (self.rssi + 100)))

    @property
    def secured(self) -> bool:
        return self.auth_mode != "open"


# Neighbours' networks: (name pattern, auth, pairwise, group, ht, wps, subnet).
_NEIGHBOURS = (
    ("Sunrise_Wi-Fi_{hex4}", "WPA2-WPA3", "CCMP", "CCMP", "40+", True, 1),
    ("FRITZ!Box 7530 {AB}", "WPA2", "CCMP", "CCMP", "20", True, 178),
    ("Salt_2GHz_{hex6}", "WPA2", "CCMP", "CCMP", "40-", False, 1),
    ("UPC{dec7}", "WPA-WPA2", "CCMP", "TKIP-CCMP", "20", True, 0),
    ("Swisscom-{hex4}", "WPA3", "CCMP", "CCMP", "20", False, 1),
    ("Gast", "open", "none", "none", "20", False, 10),
    ("DIRECT-{AB}-HP OfficeJet 8010", "WPA2", "CCMP", "CCMP", "20", True, 223),
)


def _name(pattern: str, rng: random.Random) -> str:
    return pattern.format(
        hex4=f"{rng.randrange(1 << 16):04X}", hex6=f"{rng.randrange(1 << 24):06X}",
        dec7=f"{rng.randrange(10**7):07d}", AB=f"{rng.choice('ABCDEFGHKLMNPRSTUVWXYZ')}"
                                               f"{rng.choice('ABCDEFGHKLMNPRSTUVWXYZ')}")


def neighbourhood(seed: int, home: WifiState, count: int = 5) -> tuple[AccessPoint, ...]:
    """The networks in range: the device's home network and `count` neighbours, the same
    for a device at every start, strongest first (as the ESP32 scan sorts them)."""
    rng = random.Random(seed ^ 0x5CA7)
    home_subnet = int(home.ip.split(".")[2]) if home.ip.count(".") == 3 else 1
    points = [AccessPoint(home.ssid, home.bssid, home.channel, home.rssi, home.auth_mode,
                          home.pairwise_cipher, home.group_cipher, home.ht, home.phy, True,
                          home.country, home_subnet)]
    for pattern, auth, pairwise, group, ht, wps, subnet in rng.sample(_NEIGHBOURS, count):
        points.append(AccessPoint(
            ssid=_name(pattern, rng),
            bssid=f"{rng.choice(('DC15C8', 'E0286D', '2C3AFD', '9C5322', 'F8D111'))}"
                  f"{rng.randrange(1 << 24):06X}",
            channel=rng.choice((1, 1, 6, 6, 11, 11, 3, 9, 13)),
            rssi=-58 - rng.randrange(34),
            auth_mode=auth, pairwise_cipher=pairwise, group_cipher=group, ht=ht, wps=wps,
            subnet=subnet,
        ))
    return tuple(sorted(points, key=lambda ap: -ap.rssi))


def first_start_settings(device_id: str) -> dict[str, Json]:
    """Settings a new emulated device starts with instead of the factory values: it comes
    already joined to its simulated home network (as a device its owner set up), so a
    client sees a connected device. A factory reset or DELETE gives the manual's factory
    values (Wi-Fi client off)."""
    key = hashlib.sha256(f"wifi:{device_id}".encode()).hexdigest()[:20]
    return {sections.WIFI: {"enable": True, "name": WifiState().ssid, "password": key}}


def _host(seed: int, salt: str) -> int:
    """A DHCP host number (20..219) stable for a device on one network."""
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return 20 + digest[0] % 200


def wifi_state(sta: Json, home: WifiState, points: tuple[AccessPoint, ...],
               seed: int) -> WifiState:
    """What the Wi-Fi client shows for station settings `sta`."""
    off = WifiState(enabled=False, status="Disabled", mode="OFF", ssid="", bssid="",
                    channel=0, ht="", rssi=0, auth_mode="", pairwise_cipher="",
                    group_cipher="", phy=home.phy, country=home.country, ip=_ZERO,
                    mask=_ZERO, gateway=_ZERO, dns=_ZERO)
    if not sta["enable"] or not sta["name"]:
        return off
    point = next((p for p in points if p.ssid == sta["name"]), None)
    if point is None:
        return replace(off, enabled=True, status="Disconnected", mode="STA", ssid=sta["name"])
    if point.secured and not sta["password"]:
        return replace(off, enabled=True, status="Error", mode="STA", ssid=sta["name"])
    if sta["static_ip"]:
        ip, mask, gateway, dns = sta["ip"], sta["netmask"], sta["gateway"], sta["dns"]
    elif point.ssid == home.ssid and point.bssid == home.bssid:
        ip, mask, gateway, dns = home.ip, home.mask, home.gateway, home.dns
    else:
        prefix = f"192.168.{point.subnet}"
        ip, mask = f"{prefix}.{_host(seed, point.bssid)}", _MASK
        gateway = dns = f"{prefix}.1"
    return WifiState(
        enabled=True, status="OK", mode="STA", ssid=point.ssid, bssid=point.bssid,
        channel=point.channel, ht=point.ht, rssi=point.rssi, auth_mode=point.auth_mode,
        pairwise_cipher=point.pairwise_cipher, group_cipher=point.group_cipher,
        phy=point.phy, wps=False, country=point.country, ip=ip, mask=mask, gateway=gateway,
        dns=dns)


def ethernet_state(eth: Json, *, power_save: bool, usb_powered: bool, cable: bool,
                   home: WifiState, seed: int) -> EthernetState:
    """What the Ethernet port shows for settings `eth`."""
    enabled = bool(eth["enable"]) and usb_powered and not power_save
    if not (enabled and cable):
        return EthernetState(enabled=enabled, up=False)
    if eth["static_ip"]:
        return EthernetState(enabled=True, up=True, ip=eth["ip"], mask=eth["netmask"],
                             gateway=eth["gateway"], dns=eth["dns"])
    # The cable goes to the home network's router.
    prefix = home.gateway.rsplit(".", 1)[0] if home.gateway != _ZERO else "192.168.1"
    return EthernetState(enabled=True, up=True, ip=f"{prefix}.{_host(seed, 'eth')}",
                         mask=_MASK, gateway=f"{prefix}.1", dns=f"{prefix}.1")


class Network:
    """Keeps `hardware.wifi` and `hardware.ethernet` in step with the settings."""

    def __init__(self, settings: DeviceSettings, hardware: HardwareState,
                 clock: Clock) -> None:
        self.settings = settings
        self.hardware = hardware
        self.clock = clock
        self.home = hardware.wifi  # the network the simulated device lives in
        self.access_points = neighbourhood(hardware.seed, self.home)
        self._wps_until: float | None = None
        for section in (sections.WIFI, sections.ETH, sections.SYSTEM):
            if section in settings.schemas:
                settings.subscribe(section, self._changed)
        if sections.SYSTEM in settings.schemas:
            settings.add_guard(sections.SYSTEM, self._power_save_guard)
        self.refresh()

    def scan(self) -> tuple[AccessPoint, ...]:
        return self.access_points

    def refresh(self) -> None:
        schemas = self.settings.schemas
        if sections.WIFI in schemas:
            state = wifi_state(self.settings.get(sections.WIFI), self.home, self.access_points,
                               self.hardware.seed)
            self.hardware.wifi = replace(state, wps=self.wps_active())
        if sections.ETH in schemas:
            power_save = sections.SYSTEM in schemas and self.settings.system.power_save
            self.hardware.ethernet = ethernet_state(
                self.settings.get(sections.ETH), power_save=power_save,
                usb_powered=self.hardware.usb_powered, cable=self.hardware.ethernet_cable,
                home=self.home, seed=self.hardware.seed)

    def plug_ethernet(self, plugged: bool) -> None:
        self.hardware.ethernet_cable = plugged
        self.refresh()

    # --- WPS ---------------------------------------------------------------------------

    def start_wps(self) -> None:
        """Open (or reopen) the two-minute pairing window. No router ever answers, so the
        window closes and the Wi-Fi settings stay as they were (manual 6.9: a failed
        pairing reverts to the previous settings)."""
        self._wps_until = self.clock.monotonic() + WPS_WINDOW
        self.hardware.set_wifi(wps=True)

    def wps_active(self) -> bool:
        """Whether the pairing window is open now (it closes by itself on the clock)."""
        if self._wps_until is not None and self.clock.monotonic() >= self._wps_until:
            self._wps_until = None
            self.hardware.set_wifi(wps=False)
        return self._wps_until is not None

    def restart(self) -> None:
        """A reboot ends a pairing window and brings the radios up from the settings."""
        self._wps_until = None
        self.refresh()

    # --- settings ----------------------------------------------------------------------

    def _changed(self, new: Json, old: Json) -> None:
        self.refresh()

    def _power_save_guard(self, new: Json, old: Json) -> None:
        if (new["system"]["power_save"] and not old["system"]["power_save"]
                and self.hardware.ethernet.up):
            raise SettingsError(
                "system.power_save: cannot be enabled while the Ethernet link is up")
