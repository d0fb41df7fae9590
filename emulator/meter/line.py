"""A meter line: the one interface a real port, a pty, a socket and the virtual wire share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface
from meter_protocols.uart import LineProbe


class LineError(Exception):
    """Base of the meter line's errors."""


class LineUnavailable(LineError):
    """The line cannot be opened (no such port, connection refused)."""


class LineClosed(LineError):
    """The line went away while in use (unplugged, meter process gone, socket closed)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes from the line; `flags` has one UART error flag byte per data byte when the line
    can tell (the virtual wire can; a pty or a socket cannot: None)."""

    data: bytes
    flags: bytes | None = None


class Line(Protocol):
    @property
    def name(self) -> str:
        """The port in words, for logs and diagnostics."""
        ...

    @property
    def interface(self) -> Interface:
        """The physical interface if the line knows it (a virtual meter does), else NONE."""
        ...

    @property
    def reconfigurable(self) -> bool:
        """Whether line settings really change what is received (a UART does; a TCP
        socket carries bytes whatever the settings)."""
        ...

    async def open(self, settings: LineSettings) -> None: ...

    async def read(self) -> Chunk:
        """The next bytes received; raises LineClosed when the line is gone."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def reconfigure(self, settings: LineSettings) -> None: ...

    def probe(self) -> LineProbe | None:
        """What the hardware measured on the RX pin since the last call (the level the line
        rests at, its shortest pulse); None where the port cannot tell (a USB adapter, a
        pty, a socket). The virtual wire can."""
        ...

    async def close(self) -> None: ...
