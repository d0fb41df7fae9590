"""/api/v1/settings: system identity, protection and the services (manual 6.2 and the newer
settings page)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from emulator.device.errors import SettingsError
from emulator.device.settings.fields import Bool, Group, Int, Json, Schema, Text

_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,29}[A-Za-z0-9])?")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_NUMERIC = re.compile(r"[0-9.]+")


def default_host_name(device_id: str) -> str:
    return f"whatwatt_{device_id[-6:].upper()}"


def valid_server_name(text: str) -> bool:
    """A DNS name (dot-separated labels of letters, digits and inner hyphens) or an IPv4
    address; an all-numeric name must be a valid IPv4 address."""
    if _NUMERIC.fullmatch(text):
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            return False
        return True
    name = text.removesuffix(".")
    return bool(name) and all(_LABEL.fullmatch(label) for label in name.split("."))


@dataclass(frozen=True, slots=True)
class HostName(Text):
    """The device's host name: one label (the factory name has an underscore, so `_` is
    allowed); an empty string means the factory name whatwatt_XXXXXX."""

    def check(self, value: Any, path: str) -> str:
        if value == "":
            return str(self.default)
        return Text.check(self, value, path)


@dataclass(frozen=True, slots=True)
class ServerName(Text):
    """A host name or IPv4 address; empty clears it."""

    def check(self, value: Any, path: str) -> str:
        text = Text.check(self, value, path)
        if text and not valid_server_name(text):
            raise SettingsError(f"{path}: not a valid host name or IPv4 address")
        return text


def _discard_invalid_ntp_server(stored: Json, completed: Json) -> None:
    """The newer settings page: an invalid custom NTP server is discarded and
    use_custom_ntp_server cleared. A request with one is refused (400) before it is stored,
    so this applies to a file written by something else (an older release, a hand edit)."""
    stored_system = stored.get("system")
    raw = stored_system.get("custom_ntp_server", "") if isinstance(stored_system, dict) else ""
    system = completed["system"]
    if raw != system["custom_ntp_server"]:
        system["use_custom_ntp_server"] = False


def system_settings(device_id: str) -> Schema:
    return Schema({
        "system": Group(fields={
            "name": Text("", max_length=31),
            "host_name": HostName(default_host_name(device_id), min_length=1, max_length=31,
                                  pattern=_HOSTNAME,
                                  rule="not a valid host name (letters, digits, '-' and '_')"),
            "protection": Bool(False),
            "password": Text("", max_length=31, secret=True),
            "power_save": Bool(False),
            "p1_wifi_boost": Bool(True),
            "use_dhcp_ntp_server": Bool(False),
            "custom_ntp_server": ServerName("", max_length=127),
            "use_custom_ntp_server": Bool(False),
        }),
        "services": Group(fields={
            "cloud": Group(fields={
                "what_watt": Bool(True),
                "solar_manager": Bool(False),
                "mystrom": Bool(True),
                "stromkonto": Bool(False),
            }),
            "local": Group(fields={"solar_manager": Bool(False)}),
            "broadcast": Bool(True),
            "other_energy_provider": Bool(False),
            "report_interval": Int(30, minimum=1, maximum=3600),
            "low_power_report": Bool(False),
            "log": Bool(False),
            "meter_proxy": Bool(False),
            "sd": Group(fields={
                "enable": Bool(False),
                "frequency": Int(15, minimum=1, maximum=1440),
                "recorder_mode": Bool(False),
            }),
            "modbus": Group(fields={
                "enable": Bool(False),
                "port": Int(502, minimum=1, maximum=65535),
            }),
            "berry": Group(fields={
                "auto_run": Bool(False),
                "run_delay": Int(300, minimum=60, maximum=86400),
            }),
        }),
    }, load_fixes=(_discard_invalid_ntp_server,))
