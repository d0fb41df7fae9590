"""Settings: the manual's POST/PUT rules, validation that changes nothing on error, secrets
never shown, and a store that survives anything but a full write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from emulator.device.errors import SettingsError
from emulator.device.identity import load_identity
from emulator.device.settings.meter import METER_SETTINGS
from emulator.device.settings.registry import DeviceSettings
from emulator.device.settings.store import SettingsStore, atomic_write
from emulator.device.settings.system import system_settings


@pytest.fixture
def settings(tmp_path: Path) -> DeviceSettings:
    return DeviceSettings(SettingsStore(tmp_path), {
        "meter": METER_SETTINGS, "settings": system_settings("A842E39F8124")})


def test_factory_values_match_the_documented_example(settings: DeviceSettings) -> None:
    assert settings.public("meter") == {
        "baudrate": 115200, "parity": "none", "stop_bits": "1", "buffer_size": 64,
        "method": "Passive Push", "encryption": False, "rx_invert": False,
        "tx_invert": False, "auto_baudrate": True, "if_type": "auto", "protocol": "auto",
        "if_mode": "auto", "conv_factor": 1, "time_offset": 0,
        "sync_time_offset_with_ntp": False, "scalers_set": "default"}
    assert settings.public("settings")["system"]["host_name"] == "whatwatt_9F8124"


def test_put_merges_and_post_replaces(settings: DeviceSettings) -> None:
    settings.put("meter", {"baudrate": 9600, "parity": "even"})
    settings.put("meter", {"conv_factor": 5})
    assert settings.get("meter")["baudrate"] == 9600
    assert settings.get("meter")["conv_factor"] == 5
    settings.post("meter", {"conv_factor": 5})
    assert settings.get("meter")["baudrate"] == 115200  # back to factory
    assert settings.get("meter")["conv_factor"] == 5


def test_nested_put_keeps_sibling_fields(settings: DeviceSettings) -> None:
    settings.put("settings", {"services": {"sd": {"frequency": 60}}})
    settings.put("settings", {"services": {"sd": {"enable": True}}})
    sd = settings.get("settings")["services"]["sd"]
    assert (sd["frequency"], sd["enable"]) == (60, True)


def test_keys_are_never_returned_and_32_zeros_clear_them(settings: DeviceSettings) -> None:
    key = "0123456789ABCDEF0123456789ABCDEF"
    public = settings.put("meter", {"encryption_key": key.lower()})
    assert "encryption_key" not in public and key.lower() not in json.dumps(public)
    assert settings.get("meter")["encryption_key"] == key
    settings.put("meter", {"encryption_key": "0" * 32})
    assert settings.get("meter")["encryption_key"] == ""


def test_password_is_hidden(settings: DeviceSettings) -> None:
    public = settings.put("settings", {"system": {"password": "secret1234"}})
    assert "password" not in public["system"]
    assert "secret1234" not in json.dumps(public)


def test_what_get_returned_can_be_sent_back(settings: DeviceSettings) -> None:
    before = settings.public("settings")
    assert settings.post("settings", before) == before


INVALID_METER = [
    ({"baudrate": 299}, "baudrate"),
    ({"baudrate": 115201}, "baudrate"),
    ({"baudrate": "9600"}, "baudrate"),
    ({"baudrate": 9600.5}, "baudrate"),
    ({"baudrate": True}, "baudrate"),
    ({"parity": "mark"}, "parity"),
    ({"stop_bits": 1}, "stop_bits"),
    ({"stop_bits": "3"}, "stop_bits"),
    ({"buffer_size": 0}, "buffer_size"),
    ({"buffer_size": 129}, "buffer_size"),
    ({"encryption": "yes"}, "encryption"),
    ({"encryption_key": "0123"}, "encryption_key"),
    ({"encryption_key": "G123456789ABCDEF0123456789ABCDEF"}, "encryption_key"),
    ({"authentication_key": 12}, "authentication_key"),
    ({"if_type": "usb"}, "if_type"),
    ({"protocol": "modbus"}, "protocol"),
    ({"if_mode": "poll"}, "if_mode"),
    ({"conv_factor": 0}, "conv_factor"),
    ({"conv_factor": 1000.5}, "conv_factor"),
    ({"time_offset": 2**31}, "time_offset"),
    ({"scalers_set": "lge450"}, "scalers_set"),
    ({"method": "Active Pull"}, "method"),
    ([1, 2], "body"),
    ("text", "body"),
]


@pytest.mark.parametrize(("body", "field"), INVALID_METER)
@pytest.mark.parametrize("method", ["post", "put"])
def test_invalid_meter_settings_change_nothing(settings: DeviceSettings, tmp_path: Path,
                                               method: str, body: object, field: str) -> None:
    settings.put("meter", {"baudrate": 2400, "parity": "even"})
    stored = (tmp_path / "meter.json").read_bytes()
    current = dict(settings.get("meter"))
    with pytest.raises(SettingsError, match=field):
        getattr(settings, method)("meter", body)
    assert (tmp_path / "meter.json").read_bytes() == stored
    assert settings.get("meter") == current


def test_invalid_host_name_is_refused(settings: DeviceSettings) -> None:
    with pytest.raises(SettingsError, match="host_name"):
        settings.put("settings", {"system": {"host_name": "bad name!"}})


def test_unknown_fields_are_ignored(settings: DeviceSettings) -> None:
    settings.put("meter", {"password_len": 0, "no_such_field": 1, "conv_factor": 3})
    assert "no_such_field" not in settings.get("meter")


def test_settings_survive_a_restart(tmp_path: Path) -> None:
    first = DeviceSettings(SettingsStore(tmp_path), {"meter": METER_SETTINGS})
    first.put("meter", {"time_offset": 42, "encryption_key": "AB" * 16})
    again = DeviceSettings(SettingsStore(tmp_path), {"meter": METER_SETTINGS})
    assert again.get("meter")["time_offset"] == 42
    assert again.get("meter")["encryption_key"] == "AB" * 16


def test_listeners_hear_changes_only(settings: DeviceSettings) -> None:
    heard: list[tuple[object, object]] = []
    settings.subscribe("meter", lambda new, old: heard.append((old["baudrate"],
                                                               new["baudrate"])))
    settings.put("meter", {"baudrate": 9600})
    settings.put("meter", {"baudrate": 9600})
    assert heard == [(115200, 9600)]


def test_a_corrupt_file_gives_factory_settings_and_is_kept_aside(tmp_path: Path) -> None:
    (tmp_path / "meter.json").write_text('{"version": 1, "settings": {"baudrate": 96')
    settings = DeviceSettings(SettingsStore(tmp_path), {"meter": METER_SETTINGS})
    assert settings.get("meter")["baudrate"] == 115200
    assert (tmp_path / "meter.corrupt").exists()


def test_a_stored_value_out_of_a_newer_range_falls_back(tmp_path: Path) -> None:
    (tmp_path / "meter.json").write_text(
        '{"version": 1, "settings": {"baudrate": 5, "parity": "even"}}')
    settings = DeviceSettings(SettingsStore(tmp_path), {"meter": METER_SETTINGS})
    assert settings.get("meter")["baudrate"] == 115200
    assert settings.get("meter")["parity"] == "even"


def test_migrations_run_from_the_stored_version(tmp_path: Path) -> None:
    (tmp_path / "meter.json").write_text('{"version": 0, "settings": {"baud": 2400}}')
    store = SettingsStore(tmp_path, {"meter": {0: lambda old: {"baudrate": old["baud"]}}})
    assert store.load("meter") == {"baudrate": 2400}


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["a.json"]


def test_identity_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_identity(tmp_path, now=1000.0)
    second = load_identity(tmp_path, now=2000.0)
    assert first.device_id == second.device_id and len(first.device_id) == 12
    assert second.created == 1000.0
    assert load_identity(tmp_path, now=0, override="ec:c9:ff:5c:7f:14").device_id == \
        "ECC9FF5C7F14"
    assert first.ethernet_mac == f"{int(first.device_id, 16) + 3:012X}"
