"""/api/v1/settings: system identity, protection and the services (manual 6.2 and the newer
settings page)."""

from __future__ import annotations

import re

from emulator.device.settings.fields import Bool, Group, Int, Schema, Text

_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,29}[A-Za-z0-9])?")
_NTP_SERVER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,125}[A-Za-z0-9])?")


def default_host_name(device_id: str) -> str:
    return f"whatwatt_{device_id[-6:].upper()}"


def system_settings(device_id: str) -> Schema:
    return Schema({
        "system": Group(fields={
            "name": Text("", max_length=31),
            "host_name": Text(default_host_name(device_id), min_length=1, max_length=31,
                              pattern=_HOSTNAME,
                              rule="not a valid host name (letters, digits, '-' and '_')"),
            "protection": Bool(False),
            "password": Text("", max_length=31, secret=True),
            "power_save": Bool(False),
            "p1_wifi_boost": Bool(True),
            "use_dhcp_ntp_server": Bool(False),
            "custom_ntp_server": Text("", max_length=127, pattern=_NTP_SERVER,
                                      rule="not a valid host name or IP address"),
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
    })
