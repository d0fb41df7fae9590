"""The names of the settings sections (store file names), declared once. The REST paths
that serve them are the API's business; these names are the core's."""

from __future__ import annotations

from typing import Final

SYSTEM: Final = "settings"  # /api/v1/settings: system + services
METER: Final = "meter"  # /api/v1/meter/settings
SCALERS: Final = "meter_scalers"  # /api/v1/meter/scalers/custom
WIFI: Final = "wifi"  # /api/v1/wifi/sta/settings
ETH: Final = "eth"  # /api/v1/eth/settings
MQTT: Final = "mqtt"  # /api/v1/mqtt/settings
ACTIONS: Final = "actions"  # /api/v1/actions: the actions definition
MODBUS: Final = "modbus"  # /api/v1/modbus: the Modbus register map
