"""Typed, frozen views of the settings sections: `settings.meter.conv_factor` instead of
`settings.get("meter")["conv_factor"]`. The REST key names stay in the schemas (the API's
edge) and here, where each view is built from its section's values; the rest of the device
and the services read attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.device.faces.modbus_map import ModbusMap, parse_map

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MeterSettings:
    """/api/v1/meter/settings."""

    baudrate: int
    parity: str  # none, odd, even
    stop_bits: str  # "1", "1.5", "2"
    buffer_size: int
    encryption: bool
    encryption_key: str  # 32 hex digits, or "" (no key)
    authentication_key: str
    rx_invert: bool
    tx_invert: bool
    auto_baudrate: bool
    if_type: str
    protocol: str
    if_mode: str
    conv_factor: float
    time_offset: int
    sync_time_offset_with_ntp: bool
    scalers_set: str

    @classmethod
    def from_json(cls, data: Json) -> MeterSettings:
        return cls(
            baudrate=int(data["baudrate"]), parity=str(data["parity"]),
            stop_bits=str(data["stop_bits"]), buffer_size=int(data["buffer_size"]),
            encryption=bool(data["encryption"]), encryption_key=str(data["encryption_key"]),
            authentication_key=str(data["authentication_key"]),
            rx_invert=bool(data["rx_invert"]), tx_invert=bool(data["tx_invert"]),
            auto_baudrate=bool(data["auto_baudrate"]), if_type=str(data["if_type"]),
            protocol=str(data["protocol"]), if_mode=str(data["if_mode"]),
            conv_factor=float(data["conv_factor"]), time_offset=int(data["time_offset"]),
            sync_time_offset_with_ntp=bool(data["sync_time_offset_with_ntp"]),
            scalers_set=str(data["scalers_set"]))


@dataclass(frozen=True, slots=True)
class SystemSettings:
    """The `system` object of /api/v1/settings."""

    name: str
    host_name: str
    protection: bool
    password: str
    power_save: bool
    p1_wifi_boost: bool
    use_dhcp_ntp_server: bool
    custom_ntp_server: str
    use_custom_ntp_server: bool


@dataclass(frozen=True, slots=True)
class CloudSettings:
    what_watt: bool
    solar_manager: bool
    mystrom: bool
    stromkonto: bool


@dataclass(frozen=True, slots=True)
class SdSettings:
    enable: bool
    frequency: int  # seconds between rows
    recorder_mode: bool


@dataclass(frozen=True, slots=True)
class ModbusServerSettings:
    enable: bool
    port: int


@dataclass(frozen=True, slots=True)
class ServicesSettings:
    """The `services` object of /api/v1/settings."""

    cloud: CloudSettings
    local_solar_manager: bool
    broadcast: bool  # mDNS advertisement
    other_energy_provider: bool
    report_interval: int  # seconds between MQTT publications
    low_power_report: bool
    log: bool
    meter_proxy: bool
    sd: SdSettings
    modbus: ModbusServerSettings


def system_view(data: Json) -> SystemSettings:
    s = data["system"]
    return SystemSettings(
        name=str(s["name"]), host_name=str(s["host_name"]), protection=bool(s["protection"]),
        password=str(s["password"]), power_save=bool(s["power_save"]),
        p1_wifi_boost=bool(s["p1_wifi_boost"]),
        use_dhcp_ntp_server=bool(s["use_dhcp_ntp_server"]),
        custom_ntp_server=str(s["custom_ntp_server"]),
        use_custom_ntp_server=bool(s["use_custom_ntp_server"]))


def services_view(data: Json) -> ServicesSettings:
    s = data["services"]
    cloud, sd, modbus = s["cloud"], s["sd"], s["modbus"]
    return ServicesSettings(
        cloud=CloudSettings(what_watt=bool(cloud["what_watt"]),
                            solar_manager=bool(cloud["solar_manager"]),
                            mystrom=bool(cloud["mystrom"]),
                            stromkonto=bool(cloud["stromkonto"])),
        local_solar_manager=bool(s["local"]["solar_manager"]),
        broadcast=bool(s["broadcast"]),
        other_energy_provider=bool(s["other_energy_provider"]),
        report_interval=int(s["report_interval"]),
        low_power_report=bool(s["low_power_report"]), log=bool(s["log"]),
        meter_proxy=bool(s["meter_proxy"]),
        sd=SdSettings(enable=bool(sd["enable"]), frequency=int(sd["frequency"]),
                      recorder_mode=bool(sd["recorder_mode"])),
        modbus=ModbusServerSettings(enable=bool(modbus["enable"]), port=int(modbus["port"])))


def modbus_map_view(data: Json) -> ModbusMap:
    """/api/v1/modbus: the register map (already validated when it was stored)."""
    return parse_map(data.get("sets", []))
