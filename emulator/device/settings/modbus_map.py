"""/api/v1/modbus: the Modbus register map, a list section whose factory value is the
default (PAC2200-like) map. POST replaces the map (400 and nothing changed when any set is
invalid), DELETE restores the default. The store keeps the normalised definition; the
device reads it as a typed map (`settings.modbus_map`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.device.faces.modbus_map import (
    DEFAULT_MAP,
    compact_json,
    detailed_json,
    parse_map,
    stored_json,
)
from emulator.device.settings import sections
from emulator.device.settings.fields import Json, ListSchema

if TYPE_CHECKING:
    from emulator.device.settings.registry import DeviceSettings


def _parse(body: list[Any]) -> list[Any]:
    return stored_json(parse_map(body))


@dataclass(frozen=True, slots=True)
class ModbusMapSchema(ListSchema):
    """A list section whose factory value is the default map, not an empty list."""

    def defaults(self) -> Json:
        return {self.key: stored_json(DEFAULT_MAP)}


MODBUS_MAP = ModbusMapSchema("sets", _parse)


class ModbusMapSection:
    """The ModbusMap port (emulator/device/ports.py) over the settings section: what
    /api/v1/modbus reads and writes."""

    def __init__(self, settings: DeviceSettings) -> None:
        self.settings = settings

    def compact(self) -> list[Json]:
        return compact_json(self.settings.modbus_map)

    def detailed(self, hex_addresses: bool) -> list[Json]:
        return detailed_json(self.settings.modbus_map, hex_addresses)

    async def replace(self, body: Any) -> list[Json]:
        await self.settings.apost(sections.MODBUS, body)
        return self.compact()

    async def reset(self) -> None:
        await self.settings.areset(sections.MODBUS)
