"""Ports: the small typed interfaces through which the API reaches the parts of the device
that live outside the core (the meter link, the services). The composition root sets them;
a port left None means the part is absent (a real meter has no MeterControl)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class MeterControl(Protocol):
    """Steering of a virtual meter (the control API); None for a real port."""

    def state(self) -> dict[str, Any]: ...

    def apply(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Raises SettingsError (and changes nothing) when a change is invalid."""
        ...


class ModbusMap(Protocol):
    """The Modbus server's register map, as /api/v1/modbus reads and writes it."""

    def compact(self) -> list[dict[str, Any]]:
        """The definition as POST takes it."""
        ...

    def detailed(self, hex_addresses: bool) -> list[dict[str, Any]]:
        """With end addresses, sizes and register addresses (hex: as "0x0001")."""
        ...

    async def replace(self, body: Any) -> list[dict[str, Any]]:
        """Store a new map; raises SettingsError (and changes nothing) when invalid."""
        ...

    async def reset(self) -> None:
        """Back to the default map."""
        ...


#: What the link's search has tried and seen, in detail (set while a line is open).
LinkDiagnostics = Callable[[], dict[str, Any]]


@dataclass
class Ports:
    """Every port of the device. Services add theirs here as they are built."""

    meter_control: MeterControl | None = None
    link_diagnostics: LinkDiagnostics | None = None
    modbus_map: ModbusMap | None = None
