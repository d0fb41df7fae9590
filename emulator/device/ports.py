"""Ports: the small typed interfaces through which the API reaches the parts of the device
that live outside the core (the meter link, the services). The composition root sets them;
a port left None means the part is absent (a real meter has no MeterControl)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from emulator.device.actions_model import ActionStatus


class MeterControl(Protocol):
    """Steering of a virtual meter (the control API); None for a real port."""

    def state(self) -> dict[str, Any]: ...

    def apply(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Raises SettingsError (and changes nothing) when a change is invalid."""
        ...

    def undo(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The changes that would put back what `changes` changes (SettingsError if
        invalid); computed before applying them."""
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


class DeviceEvents(Protocol):
    """What happens to the board itself (the control API's device events and services);
    the composition root carries them out."""

    def power_cut(self) -> None:
        """An abrupt stop, no clean shutdown, then a start from the data dir."""
        ...

    def brownout(self, seconds: float) -> None:
        """The supply sags: v_scap falls over `seconds` of device time, then a restart."""
        ...

    def service_names(self) -> list[str]: ...

    async def set_service_running(self, name: str, running: bool) -> None:
        """Stop or start one service (KeyError: no such service)."""
        ...


#: What the link's search has tried and seen, in detail (set while a line is open).
LinkDiagnostics = Callable[[], dict[str, Any]]


@dataclass
class Ports:
    """Every port of the device. Services add theirs here as they are built."""

    meter_control: MeterControl | None = None
    link_diagnostics: LinkDiagnostics | None = None
    modbus_map: ModbusMap | None = None
    sd_card: SdCard | None = None  # None: no card (--no-sdcard)
    actions: ActionsQueue | None = None
    device_events: DeviceEvents | None = None


# --- the SD card (manual 6.13) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SdEntry:
    """One entry of a card directory."""

    name: str
    size: int  # bytes; 0 for a directory
    is_dir: bool


class SdPathRefused(ValueError):
    """A path no card can hold or that would leave the card (the API answers 400)."""


class SdCard(Protocol):
    """The microSD card's files, for /sdcard/. Paths are relative to the card's root, with
    `/` between names ("" is the root); every method refuses (SdPathRefused) a path that
    is absolute or holds `..`, `.`, an empty name, a backslash, NUL or a character FAT
    forbids, and never follows a symbolic link (a FAT card has none: they read as
    missing). A missing entry raises FileNotFoundError."""

    def mounted(self) -> bool: ...

    async def is_dir(self, path: str) -> bool:
        """True for a directory, False for a file; FileNotFoundError when neither."""
        ...

    async def listing(self, path: str) -> list[SdEntry]: ...

    async def open(self, path: str) -> BinaryIO:
        """The file, open for reading (IsADirectoryError for a directory)."""
        ...

    async def delete(self, path: str) -> None:
        """A file, or a directory with everything in it; SdPathRefused for the root."""
        ...


# --- actions (manual 6.6.2, 6.6.3) --------------------------------------------------------


class ActionsQueue(Protocol):
    """The actions runner, for /api/v1/actions/call and /status."""

    def call(self, action_id: str) -> list[int]:
        """Queue the action's enabled requests; their status ids. Raises ActionRefused
        (not found, disabled, still running, too many pending, not running)."""
        ...

    def statuses(self, ids: Sequence[int]) -> list[ActionStatus]:
        """The entries still kept for these ids, in the order asked (unknown ids left out)."""
        ...
