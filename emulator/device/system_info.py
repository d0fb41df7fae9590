"""/api/v1/system: the device, its clouds and services, the meter, the radios, the card."""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from emulator.device import service_status
from emulator.device.core import Device
from emulator.device.faces.variables import SystemVariables
from emulator.device.values import num, utc_z

Json = dict[str, Any]


def _date_time(t: float, device: Device) -> tuple[str, str]:
    return _formatted(math.floor(t), device.zone)


@lru_cache(maxsize=64)
def _formatted(second: int, zone: ZoneInfo) -> tuple[str, str]:
    """Date and time of day in `zone`, to the second: the same for a whole second (a zone
    changes its offset only at a whole second), so each is formatted once, not per request
    (now, the last reboot and the last report: a few live seconds at a time)."""
    moment = datetime.fromtimestamp(second, zone)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")


@lru_cache(maxsize=8)
def _utc(t: float) -> str:
    return utc_z(t)  # the licence's activation: one instant per device


def system_inputs(device: Device) -> tuple[object, ...]:
    """Everything `system_info` (and its helpers below) reads, with the clock to the second:
    equal inputs give an equal object, so /api/v1/system can serve the JSON it encoded for
    them. The parts are immutable values replaced on change (settings values, service
    statuses, radio states, the meter's reading), compared by identity first. Keep in step
    with system_info: an input left out here shows a change up to a second late."""
    hardware = device.hardware
    link = device.meter
    settings = device.settings
    return (math.floor(device.clock.time()), int(device.uptime()), device.last_reboot,
            device.zone, device.identity, device.boot.wall, device.license_type,
            settings.system, settings.services,
            device.services.get(service_status.MQTT),
            device.services.get(service_status.SD_CARD),
            hardware.wifi, hardware.ethernet, hardware.sd_card, hardware.usb_powered,
            hardware.ethernet_cable, device.network.wps_active(),
            link.status, link.interface, link.protocol, link.reading, link.interval,
            link.encrypted, link.authenticated, device.latest)


def system_info(device: Device) -> Json:
    now = device.clock.time()
    date, time = _date_time(now, device)
    boot_date, boot_time = _date_time(device.last_reboot, device)
    plug = device.hardware.plug(device.meter.interface)
    cloud = device.settings.services.cloud
    mqtt = device.services.get(service_status.MQTT)
    license_info: Json = {"type": device.license_type}
    if device.license_type != "FREE":
        license_info["activation_date"] = _utc(device.identity.created or device.boot.wall)
    wifi_up = device.hardware.wifi.enabled and device.hardware.wifi.status == "OK"
    online = wifi_up or device.hardware.ethernet.up
    # myStrom is a licensed service: configured on FREE, but it stays stopped.
    mystrom = cloud.mystrom and device.licensed
    return {
        "device": {
            "name": device.settings.system.name,
            "id": device.identity.device_id,
            "model": device.identity.model,
            "firmware": device.identity.firmware,
            "build": device.identity.build,
            "upgrade_capable": True,
            "date": date,
            "time": time,
            "time_since_boot": int(device.uptime()),
            "last_reboot": {"date": boot_date, "time": boot_time},
            "plug": {"v_usb": num(plug.v_usb, 2), "v_mbus": num(plug.v_mbus, 2),
                     "v_p1": num(plug.v_p1, 2), "v_scap": num(plug.v_scap, 2)},
            "license": license_info,
        },
        "clouds": {
            "whatwatt": {"enabled": cloud.what_watt, "connected": cloud.what_watt and online,
                         "registered": cloud.what_watt},
            "mystrom": {"enabled": cloud.mystrom,
                        "status": ("REGISTERED" if online else "DISCONNECTED")
                        if mystrom else "DISABLED"},
            "solar_manager": {"enabled": cloud.solar_manager,
                              "connected": cloud.solar_manager and online},
            # The MQTT client: enabled as its settings say, connected when it is.
            "mqtc": {"enabled": bool(mqtt.facts.get("enabled", False)),
                     "connected": mqtt.running},
            "stromkonto": {"enabled": cloud.stromkonto,
                           "connected": cloud.stromkonto and online},
        },
        "services": {"berry": {"execution_status": {"state": "IDLE"}}},
        "meter": meter_info(device),
        "wifi": wifi_info(device),
        "ethernet": ethernet_info(device),
        "sd_card": sd_card_info(device),
    }


def sd_card_info(device: Device) -> Json:
    """The card as the SD service sees it (its status facts), else as the hardware has it."""
    card = device.hardware.sd_card
    facts = device.services.get(service_status.SD_CARD).facts
    return {
        "installed": bool(facts.get("installed", card.installed)),
        "type": str(facts.get("type", card.type)),
        "size": facts.get("size", card.size),
        "speed": facts.get("speed", card.speed),
    }


def meter_info(device: Device) -> Json:
    link = device.meter
    reading = link.reading
    ident = reading.identity if reading else None
    date = time = ""
    if device.latest is not None:
        date, time = _date_time(device.latest.timestamp, device)
    return {
        "status": link.status.value,
        "interface": link.interface.value,
        "id": ident.meter_id if ident else "",
        "manufacturer": ident.vendor if ident else "",
        "type": ident.logical_name if ident else "",
        "model": ident.model if ident else "",
        "protocol": link.protocol.value if link.protocol else "",
        "protocol_version": reading.protocol_version if reading else "",
        "report_interval": num(link.interval or 0),
        "enc_en": link.encrypted,
        "auth_en": link.authenticated,
        "tariff": (reading.tariff or 0) if reading else 0,
        "date": date,
        "time": time,
    }


def wifi_info(device: Device) -> Json:
    wifi = device.hardware.wifi
    return {
        "ssid": wifi.ssid, "bssid": wifi.bssid, "channel": wifi.channel, "ht": wifi.ht,
        "rssi": wifi.rssi, "signal": wifi.signal, "auth_mode": wifi.auth_mode,
        "pairwise_cipher": wifi.pairwise_cipher, "group_cipher": wifi.group_cipher,
        "phy": wifi.phy, "wps": device.network.wps_active(), "country": wifi.country,
        "mac": device.identity.wifi_mac, "ip": wifi.ip, "mask": wifi.mask,
        "gateway": wifi.gateway, "dns": wifi.dns, "status": wifi.status, "mode": wifi.mode,
    }


def ethernet_info(device: Device) -> Json:
    eth = device.hardware.ethernet
    return {
        "mac": device.identity.ethernet_mac,
        "status": "Up" if eth.up else "Down",
        "ip": eth.ip, "mask": eth.mask, "gateway": eth.gateway, "dns": eth.dns,
    }


def system_variables(device: Device) -> SystemVariables:
    """The device side of the template variables (manual 4.1.1)."""
    wifi = device.hardware.wifi
    eth = device.hardware.ethernet
    plug = device.hardware.plug(device.meter.interface)
    wifi_vars = {
        "mode": "sta" if wifi.enabled else "off",
        "sta.status": wifi.status.lower(),
        "sta.ssid": wifi.ssid,
        "sta.bssid": wifi.bssid,
        "sta.rssi": str(wifi.rssi),
        "sta.channel": str(wifi.channel),
        "sta.mac": device.identity.wifi_mac,
        "sta.ip": wifi.ip,
        "sta.mask": wifi.mask,
        "sta.gw": wifi.gateway,
        "sta.dns": wifi.dns,
    }
    eth_vars = {
        "state": "up" if eth.up else "down",
        "mac": device.identity.ethernet_mac,
        "ip": eth.ip,
        "mask": eth.mask,
        "gw": eth.gateway,
        "dns": eth.dns,
    }
    return SystemVariables(
        name=device.settings.system.name,
        device_id=device.identity.device_id,
        firmware=device.identity.firmware,
        now=device.clock.time(),
        meter_status=device.meter.status.value,
        interface=device.meter.interface,
        plug={"usb": plug.v_usb, "p1": plug.v_p1, "mbus": plug.v_mbus},
        wifi=wifi_vars,
        ethernet=eth_vars,
    )
