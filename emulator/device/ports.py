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


#: What the link's search has tried and seen, in detail (set while a line is open).
LinkDiagnostics = Callable[[], dict[str, Any]]


@dataclass
class Ports:
    """Every port of the device. Services add theirs here as they are built."""

    meter_control: MeterControl | None = None
    link_diagnostics: LinkDiagnostics | None = None
