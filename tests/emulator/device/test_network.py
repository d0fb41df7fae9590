"""The simulated radios follow the settings: Wi-Fi joins what is in range, Ethernet follows
the power decision tree, the WPS window closes after two minutes on the device's clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.device.core import Device
from emulator.device.errors import SettingsError
from emulator.device.hardware import HardwareState
from emulator.device.network import WPS_WINDOW, neighbourhood
from emulator.device.system_info import system_info, system_variables
from tests.support import DEVICE_ID, ManualClock, build_device


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(tmp_path: Path, clock: ManualClock) -> Device:
    return build_device(tmp_path, clock)


def test_the_neighbourhood_is_stable_per_device_and_holds_the_home_network() -> None:
    home = HardwareState.for_device(DEVICE_ID).wifi
    first = neighbourhood(HardwareState.for_device(DEVICE_ID).seed, home)
    again = neighbourhood(HardwareState.for_device(DEVICE_ID).seed, home)
    other_hw = HardwareState.for_device("A842E3000001")
    other = neighbourhood(other_hw.seed, other_hw.wifi)
    assert first == again
    assert first != other
    assert [p.rssi for p in first] == sorted((p.rssi for p in first), reverse=True)
    assert len({p.ssid for p in first}) == len(first) == 6
    home_point = next(p for p in first if p.ssid == "HomeNet")
    assert (home_point.bssid, home_point.channel, home_point.rssi) == (
        home.bssid, home.channel, home.rssi)
    assert all(1 <= p.channel <= 13 and -127 <= p.rssi <= 0 and len(p.bssid) == 12
               for p in first)


def test_a_new_device_is_joined_to_its_home_network(device: Device) -> None:
    wifi = system_info(device)["wifi"]
    assert (wifi["status"], wifi["mode"], wifi["ssid"]) == ("OK", "STA", "HomeNet")
    assert wifi["ip"].startswith("192.168.1.") and wifi["signal"] > 0


def test_deleting_the_wifi_settings_shuts_the_client_down(device: Device) -> None:
    device.settings.reset("wifi")
    info = system_info(device)
    assert info["wifi"]["status"] == "Disabled"
    assert info["wifi"]["mode"] == "OFF"
    assert (info["wifi"]["ssid"], info["wifi"]["ip"], info["wifi"]["signal"]) == (
        "", "0.0.0.0", 0)
    assert info["clouds"]["whatwatt"]["connected"] is False  # no way out any more
    variables = system_variables(device).wifi
    assert variables["mode"] == "off" and variables["sta.status"] == "disabled"


def test_joining_another_network_in_range(device: Device) -> None:
    neighbour = next(p for p in device.network.scan() if p.ssid != "HomeNet" and p.secured)
    device.settings.put("wifi", {"name": neighbour.ssid, "password": "whatever-key"})
    wifi = system_info(device)["wifi"]
    assert (wifi["status"], wifi["ssid"], wifi["bssid"], wifi["channel"]) == (
        "OK", neighbour.ssid, neighbour.bssid, neighbour.channel)
    assert wifi["auth_mode"] == neighbour.auth_mode
    assert wifi["ip"].startswith(f"192.168.{neighbour.subnet}.")
    assert wifi["gateway"] == f"192.168.{neighbour.subnet}.1"


def test_a_network_out_of_range_or_a_missing_password(device: Device) -> None:
    device.settings.put("wifi", {"name": "NoSuchNetwork"})
    assert system_info(device)["wifi"]["status"] == "Disconnected"
    assert system_info(device)["wifi"]["ssid"] == "NoSuchNetwork"
    device.settings.post("wifi", {"enable": True, "name": "HomeNet"})  # no password
    assert system_info(device)["wifi"]["status"] == "Error"
    assert system_variables(device).wifi["sta.status"] == "error"


def test_an_open_network_needs_no_password(device: Device) -> None:
    device.settings.post("wifi", {"enable": True, "name": "Gast"})
    assert system_info(device)["wifi"]["status"] == "OK"
    assert system_info(device)["wifi"]["auth_mode"] == "open"


def test_a_static_address_shows_in_system_and_variables(device: Device) -> None:
    device.settings.put("wifi", {"static_ip": True, "ip": "192.168.1.201",
                                 "netmask": "255.255.255.0", "gateway": "192.168.1.1",
                                 "dns": "8.8.8.8"})
    wifi = system_info(device)["wifi"]
    assert (wifi["ip"], wifi["mask"], wifi["gateway"], wifi["dns"]) == (
        "192.168.1.201", "255.255.255.0", "192.168.1.1", "8.8.8.8")
    assert system_variables(device).wifi["sta.ip"] == "192.168.1.201"


def test_ethernet_follows_cable_settings_and_power_save(tmp_path: Path,
                                                        clock: ManualClock) -> None:
    device = build_device(tmp_path, clock, ethernet_cable=True)
    eth = system_info(device)["ethernet"]
    assert eth["status"] == "Up" and eth["ip"].startswith("192.168.1.")
    assert eth["gateway"] == "192.168.1.1"
    device.settings.put("eth", {"static_ip": True, "ip": "10.0.1.100",
                                "netmask": "255.255.0.0", "gateway": "10.0.1.1",
                                "dns": "10.0.1.1"})
    assert system_info(device)["ethernet"]["ip"] == "10.0.1.100"
    assert system_variables(device).ethernet["ip"] == "10.0.1.100"
    device.settings.put("eth", {"enable": False})
    eth = system_info(device)["ethernet"]
    assert (eth["status"], eth["ip"], eth["gateway"]) == ("Down", "0.0.0.0", "0.0.0.0")
    assert system_variables(device).ethernet["state"] == "down"
    # Power save may be enabled now that the link is down, and it keeps Ethernet off.
    device.settings.put("settings", {"system": {"power_save": True}})
    device.settings.put("eth", {"enable": True})
    assert system_info(device)["ethernet"]["status"] == "Down"
    device.settings.put("settings", {"system": {"power_save": False}})
    assert system_info(device)["ethernet"]["status"] == "Up"


def test_power_save_is_refused_while_the_ethernet_link_is_up(tmp_path: Path,
                                                             clock: ManualClock) -> None:
    device = build_device(tmp_path, clock, ethernet_cable=True)
    with pytest.raises(SettingsError, match="power_save"):
        device.settings.put("settings", {"system": {"power_save": True}})
    assert device.settings.get("settings")["system"]["power_save"] is False
    device.network.plug_ethernet(False)
    device.settings.put("settings", {"system": {"power_save": True}})
    assert device.settings.get("settings")["system"]["power_save"] is True


def test_the_wps_window_lasts_two_minutes_of_device_time(device: Device,
                                                         clock: ManualClock) -> None:
    assert system_info(device)["wifi"]["wps"] is False
    device.network.start_wps()
    assert system_info(device)["wifi"]["wps"] is True
    clock.advance(WPS_WINDOW - 1)
    device.settings.put("wifi", {"max_tx_power": 15})  # a change meanwhile keeps it open
    assert system_info(device)["wifi"]["wps"] is True
    clock.advance(1)
    assert system_info(device)["wifi"]["wps"] is False
    assert system_info(device)["wifi"]["status"] == "OK"  # failed pairing: settings kept
    device.network.start_wps()
    clock.advance(WPS_WINDOW / 2)
    device.network.start_wps()  # starting again opens a new two minutes
    clock.advance(WPS_WINDOW - 1)
    assert system_info(device)["wifi"]["wps"] is True


def test_a_reboot_ends_the_wps_window(device: Device) -> None:
    device.network.start_wps()
    device.restart()
    assert system_info(device)["wifi"]["wps"] is False
