"""The --meter SOURCE option: where the meter's bytes come from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from meter_protocols.errors import ProtocolError
from meter_protocols.simulator.profiles import get_profile


class SourceKind(StrEnum):
    VIRTUAL = "virtual"  # a virtual meter in this process
    SERIAL = "serial"  # a device path: /dev/ttyUSB0, /dev/serial/by-id/..., a pty
    SOCKET = "socket"  # socket://host:port (ser2net, a P1-to-Wi-Fi dongle)
    REPLAY = "replay"  # a recorded capture played onto a virtual line


class SourceError(ValueError):
    """A --meter value that names no usable source."""


@dataclass(frozen=True, slots=True)
class MeterSource:
    kind: SourceKind
    target: str  # profile name, path or URL

    @classmethod
    def parse(cls, text: str) -> MeterSource:
        text = text.strip()
        if text.startswith("virtual:"):
            name = text.removeprefix("virtual:")
            try:
                get_profile(name)
            except ProtocolError as exc:
                raise SourceError(str(exc)) from exc
            return cls(SourceKind.VIRTUAL, name)
        if text.startswith(("socket://", "tcp://", "rfc2217://")):
            return cls(SourceKind.SOCKET, text)
        if text.startswith("replay:"):
            path = text.removeprefix("replay:")
            if not Path(path).is_file():
                raise SourceError(f"replay file not found: {path}")
            return cls(SourceKind.REPLAY, path)
        if text.startswith("/") or text.startswith("COM"):
            return cls(SourceKind.SERIAL, text)
        raise SourceError(
            f"unknown meter source {text!r}: use virtual:PROFILE, a device path such as "
            "/dev/ttyUSB0, socket://HOST:PORT or replay:FILE")

    def __str__(self) -> str:
        if self.kind is SourceKind.VIRTUAL:
            return f"virtual:{self.target}"
        if self.kind is SourceKind.REPLAY:
            return f"replay:{self.target}"
        return self.target
