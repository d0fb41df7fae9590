"""The rules of /api/v1/settings, Wi-Fi and Ethernet settings beyond the generic POST/PUT
machinery: host names, NTP servers, Wi-Fi names and passwords, static addressing, the
transmit power's two names, first-start values, resets, guards, files on disk."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from emulator.device.errors import SettingsError
from emulator.device.settings.network import WIFI_STA_SETTINGS
from emulator.device.settings.registry import DeviceSettings
from emulator.device.settings.store import SettingsStore
from emulator.device.settings.system import valid_server_name
from tests.support import device_settings


@pytest.fixture
def settings(tmp_path: Path) -> DeviceSettings:
    return device_settings(tmp_path)


def system(settings: DeviceSettings) -> dict[str, object]:
    return settings.get("settings")["system"]  # type: ignore[no-any-return]


def test_an_empty_host_name_means_the_factory_name(settings: DeviceSettings) -> None:
    settings.put("settings", {"system": {"host_name": "meter-cellar"}})
    assert system(settings)["host_name"] == "meter-cellar"
    settings.put("settings", {"system": {"host_name": ""}})
    assert system(settings)["host_name"] == "whatwatt_9F8124"


@pytest.mark.parametrize("name", ["-leading", "trailing-", "has space", "dot.ted", "a" * 32,
                                  "ümlaut"])
def test_invalid_host_names_are_refused(settings: DeviceSettings, name: str) -> None:
    with pytest.raises(SettingsError, match="host_name"):
        settings.put("settings", {"system": {"host_name": name}})


@pytest.mark.parametrize(("name", "valid"), [
    ("pool.ntp.org", True), ("time.cloudflare.com", True), ("ntp", True),
    ("192.168.1.1", True), ("ntp.example.ch.", True), ("a-b.c-d.ch", True),
    ("256.1.1.1", False), ("1.2.3", False), ("-bad.org", False), ("bad-.org", False),
    ("a..b", False), ("under_score.org", False), ("sp ace.org", False), (".", False),
    ("x" * 64 + ".org", False),
])
def test_ntp_server_names(name: str, valid: bool) -> None:
    assert valid_server_name(name) is valid


def test_an_invalid_ntp_server_is_refused_and_changes_nothing(settings: DeviceSettings,
                                                              tmp_path: Path) -> None:
    settings.put("settings", {"system": {"custom_ntp_server": "pool.ntp.org",
                                         "use_custom_ntp_server": True}})
    before = (tmp_path / "settings" / "settings.json").read_bytes()
    with pytest.raises(SettingsError, match="custom_ntp_server"):
        settings.put("settings", {"system": {"custom_ntp_server": "not a host!"}})
    assert (tmp_path / "settings" / "settings.json").read_bytes() == before


def test_an_invalid_stored_ntp_server_is_discarded_and_its_use_cleared(tmp_path: Path) -> None:
    folder = tmp_path / "settings"
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps({"version": 1, "settings": {
        "system": {"custom_ntp_server": "bad host", "use_custom_ntp_server": True,
                   "name": "kept"}}}))
    loaded = device_settings(tmp_path)
    assert system(loaded)["custom_ntp_server"] == ""
    assert system(loaded)["use_custom_ntp_server"] is False
    assert system(loaded)["name"] == "kept"


def test_use_custom_ntp_server_without_a_server_is_kept(tmp_path: Path) -> None:
    # "Enables custom_ntp_server when the value is non-empty": accepted, and not undone later.
    device_settings(tmp_path).put("settings", {"system": {"use_custom_ntp_server": True}})
    assert system(device_settings(tmp_path))["use_custom_ntp_server"] is True


def test_a_new_device_starts_joined_to_its_home_network(settings: DeviceSettings,
                                                       tmp_path: Path) -> None:
    assert settings.public("wifi")["enable"] is True
    assert settings.public("wifi")["name"] == "HomeNet"
    assert "password" not in settings.public("wifi")
    assert not (tmp_path / "settings" / "wifi.json").exists()  # nothing written yet


def test_delete_and_factory_reset_write_the_factory_values(settings: DeviceSettings,
                                                           tmp_path: Path) -> None:
    settings.reset("wifi")
    assert settings.public("wifi") == WIFI_STA_SETTINGS.public(WIFI_STA_SETTINGS.defaults())
    # ... and a restart does not bring the first-start values back
    assert device_settings(tmp_path).get("wifi")["enable"] is False
    settings.put("wifi", {"enable": True, "name": "Elsewhere"})
    settings.put("settings", {"system": {"name": "Plant A"}})
    settings.factory_reset()
    again = device_settings(tmp_path)
    assert again.get("wifi")["enable"] is False
    assert again.get("settings")["system"]["name"] == ""
    # One file per section, every section written (the list grows with the sections).
    assert sorted(p.name for p in (tmp_path / "settings").iterdir()) == sorted(
        f"{name}.json" for name in settings.schemas)
    assert {"eth.json", "meter.json", "meter_scalers.json", "settings.json", "wifi.json",
            "mqtt.json", "actions.json",
            "modbus.json"} <= {p.name for p in (tmp_path / "settings").iterdir()}


VALID_WIFI = [
    {"enable": True, "name": "MyWiFiNetwork", "password": "MySecurePassword123"},
    {"enable": True, "name": "OpenWiFi"},
    {"enable": True, "name": "x" * 32, "password": "8chars!!"},
    {"enable": True, "name": "Zürich", "password": "p" * 63},
    {"enable": True, "name": "n", "password": "0123456789abcdefABCDEF" + "0" * 42},
    {"enable": False},
    {"enable": True, "name": "S", "static_ip": True, "ip": "192.168.1.100",
     "netmask": "255.255.255.0", "gateway": "192.168.1.1", "dns": "8.8.8.8"},
    {"name": "n", "max_tx_power": 0}, {"name": "n", "max_tx_power": 21},
    {"name": "n", "max_tx_power": 10.5},
]


@pytest.mark.parametrize("body", VALID_WIFI)
def test_valid_wifi_settings(settings: DeviceSettings, body: dict[str, object]) -> None:
    public = settings.post("wifi", body)
    for key, value in body.items():
        if key != "password":
            assert public[key] == value


INVALID_WIFI = [
    ({"enable": True}, "name"),
    ({"enable": True, "name": ""}, "name"),
    ({"name": "x" * 33}, "name"),
    ({"name": "ü" * 17}, "name"),  # 34 bytes
    ({"name": 5}, "name"),
    ({"name": "n", "password": "short"}, "password"),
    ({"name": "n", "password": "p" * 65}, "password"),
    ({"name": "n", "password": "g" * 64}, "password"),
    ({"name": "n", "password": "passwörd1"}, "password"),
    ({"name": "n", "static_ip": True}, "ip"),
    ({"name": "n", "static_ip": True, "ip": "192.168.1.5", "netmask": "255.255.255.0",
      "gateway": "192.168.1.1"}, "dns"),
    ({"name": "n", "static_ip": True, "ip": "192.168.1.5", "netmask": "255.0.255.0",
      "gateway": "192.168.1.1", "dns": "1.1.1.1"}, "netmask"),
    ({"name": "n", "ip": "192.168.1.256"}, "ip"),
    ({"name": "n", "max_tx_power": 21.5}, "max_tx_power"),
    ({"name": "n", "max_tx_power": -0.5}, "max_tx_power"),
    ({"name": "n", "max_tx_power": 10.25}, "max_tx_power"),
    ({"name": "n", "max_power": 30}, "max_tx_power"),
    ({"name": "n", "enable": "yes"}, "enable"),
]


@pytest.mark.parametrize(("body", "field"), INVALID_WIFI)
def test_invalid_wifi_settings(settings: DeviceSettings, body: dict[str, object],
                               field: str) -> None:
    with pytest.raises(SettingsError, match=field) as caught:
        settings.post("wifi", body)
    password = body.get("password")
    if isinstance(password, str):
        assert password not in str(caught.value)  # never echoed


def test_max_power_is_another_name_for_max_tx_power(settings: DeviceSettings) -> None:
    assert settings.put("wifi", {"max_power": 12.5})["max_tx_power"] == 12.5
    assert "max_power" not in settings.public("wifi")
    both = settings.put("wifi", {"max_power": 5, "max_tx_power": 6})
    assert both["max_tx_power"] == 6  # the documented response name wins


def test_guards_refuse_before_anything_is_stored(settings: DeviceSettings,
                                                 tmp_path: Path) -> None:
    def no_names(new: dict[str, object], old: dict[str, object]) -> None:
        if new["system"]["name"]:  # type: ignore[index]
            raise SettingsError("system.name: not now")

    remove = settings.add_guard("settings", no_names)
    with pytest.raises(SettingsError, match="not now"):
        settings.put("settings", {"system": {"name": "x"}})
    assert not (tmp_path / "settings" / "settings.json").exists()
    remove()
    settings.put("settings", {"system": {"name": "x"}})
    assert system(settings)["name"] == "x"


def test_files_are_private_and_stale_temporaries_are_cleaned(tmp_path: Path) -> None:
    settings = device_settings(tmp_path)
    settings.put("wifi", {"password": "a secret one"})
    mode = stat.S_IMODE(os.stat(tmp_path / "settings" / "wifi.json").st_mode)
    assert mode == 0o600
    leftover = tmp_path / "settings" / ".wifi.json.4242.tmp"
    leftover.write_text("{half")
    again = DeviceSettings(SettingsStore(tmp_path / "settings"), settings.schemas)
    assert not leftover.exists()
    assert again.get("wifi")["password"] == "a secret one"

