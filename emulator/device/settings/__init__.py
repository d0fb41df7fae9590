"""One schema per settings endpoint, the registry of current values, and the atomic store."""

from __future__ import annotations

from emulator.device.settings import sections
from emulator.device.settings.actions import ACTIONS_SETTINGS
from emulator.device.settings.fields import SectionSchema
from emulator.device.settings.meter import METER_SETTINGS
from emulator.device.settings.modbus_map import MODBUS_MAP
from emulator.device.settings.mqtt import MQTT_SETTINGS
from emulator.device.settings.network import ETH_SETTINGS, WIFI_STA_SETTINGS
from emulator.device.settings.scalers import CUSTOM_SCALERS
from emulator.device.settings.system import system_settings


def device_schemas(device_id: str) -> dict[str, SectionSchema]:
    """Every settings section of the device, by its store name."""
    return {
        sections.SYSTEM: system_settings(device_id),
        sections.METER: METER_SETTINGS,
        sections.SCALERS: CUSTOM_SCALERS,
        sections.WIFI: WIFI_STA_SETTINGS,
        sections.ETH: ETH_SETTINGS,
        sections.MQTT: MQTT_SETTINGS,
        sections.ACTIONS: ACTIONS_SETTINGS,
        sections.MODBUS: MODBUS_MAP,
    }
