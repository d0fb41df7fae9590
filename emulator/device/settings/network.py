"""/api/v1/wifi/sta/settings and /api/v1/eth/settings (manual 6.7 and 6.10, the newer Wi-Fi
and Ethernet pages).

The Wi-Fi transmit power is `max_tx_power` in GET answers (the manual's example, the newer
page and its example); the manual's table and the OpenAPI file call it `max_power`, so a
request may use either name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from emulator.device.errors import SettingsError
from emulator.device.settings.fields import Bool, Field, Ipv4, Json, Number, Schema

_HEX64 = re.compile(r"[0-9A-Fa-f]{64}")
_ZERO = "0.0.0.0"  # noqa: S104 - a settings value, not a bind address


@dataclass(frozen=True, slots=True)
class Ssid(Field):
    """A network name: 1..32 bytes of UTF-8 (an SSID is 32 octets); empty while unset."""

    default: str = ""

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise SettingsError(f"{path}: expected a string")
        size = len(value.encode("utf-8"))
        if size > 32:
            raise SettingsError(f"{path}: length {size} out of range 1..32")
        return value


@dataclass(frozen=True, slots=True)
class WifiPassword(Field):
    """WPA: a passphrase of 8..63 printable ASCII characters, or the key itself as exactly
    64 hexadecimal digits; empty for an open network. Never returned, never echoed."""

    default: str = ""
    secret: bool = True

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise SettingsError(f"{path}: expected a string")
        if value == "":
            return value
        if len(value) == 64:
            if not _HEX64.fullmatch(value):
                raise SettingsError(f"{path}: a 64-character key must be hexadecimal")
            return value
        if not 8 <= len(value) <= 63:
            raise SettingsError(f"{path}: length {len(value)} out of range 8..64")
        if not all(" " <= c <= "~" for c in value):
            raise SettingsError(f"{path}: only printable ASCII characters are allowed")
        return value


def _static_addressing(data: Json) -> None:
    """A static address needs every one of ip, netmask, gateway and dns set (non-zero),
    and a netmask that is one (contiguous mask)."""
    if not data["static_ip"]:
        return
    for name in ("ip", "netmask", "gateway", "dns"):
        if data[name] == _ZERO:
            raise SettingsError(f"{name}: required (non-zero) when static_ip is true")
    try:
        ipaddress.IPv4Network(f"0.0.0.0/{data['netmask']}")
    except ValueError as exc:
        raise SettingsError(f"netmask: {data['netmask']} is not a valid netmask") from exc


def _name_when_enabled(data: Json) -> None:
    if data["enable"] and not data["name"]:
        raise SettingsError("name: required (1..32 characters) when enable is true")


WIFI_STA_SETTINGS = Schema({
    "enable": Bool(False),
    "name": Ssid(""),
    "password": WifiPassword(),
    "static_ip": Bool(False),
    "ip": Ipv4(),
    "netmask": Ipv4(),
    "gateway": Ipv4(),
    "dns": Ipv4(),
    "max_tx_power": Number(17, minimum=0, maximum=21, step=0.5),
}, checks=(_name_when_enabled, _static_addressing), aliases={"max_power": "max_tx_power"})

ETH_SETTINGS = Schema({
    "enable": Bool(True),
    "static_ip": Bool(False),
    "ip": Ipv4(),
    "netmask": Ipv4(),
    "gateway": Ipv4(),
    "dns": Ipv4(),
}, checks=(_static_addressing,))
