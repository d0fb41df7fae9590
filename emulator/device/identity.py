"""Who the device is (its id, kept in the data dir) and which boot it is in."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from emulator import __version__
from emulator.device.errors import DeviceError
from emulator.device.settings.store import atomic_write

_LOG = logging.getLogger(__name__)

MODEL = "WW_Go_1.2"
#: The whatwatt Go firmware whose behaviour is emulated (the newer documentation's).
FIRMWARE = "1.10.0"
#: Espressif's OUI: whatwatt Go ids are the ESP32's base MAC address.
_OUI = "A842E3"
_ID_RE = re.compile(r"[0-9A-F]{12}")


def _build_id() -> str:
    digest = hashlib.sha1(f"whatwatt-emulator {__version__}".encode(), usedforsecurity=False)
    return f"{digest.hexdigest()[:7]}-{0x6920C000:08x}"


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    device_id: str
    created: float = 0.0  # when this identity was first made (the licence activation date)
    model: str = MODEL
    firmware: str = FIRMWARE
    build: str = _build_id()

    @property
    def short_id(self) -> str:
        """The last six hex digits, as in host and mDNS names."""
        return self.device_id[-6:]

    @property
    def wifi_mac(self) -> str:
        return self.device_id

    @property
    def ethernet_mac(self) -> str:
        # ESP32: the Ethernet MAC is the base MAC plus 3.
        return f"{(int(self.device_id, 16) + 3) & 0xFFFFFFFFFFFF:012X}"


def normalise_device_id(text: str) -> str:
    value = text.replace(":", "").replace("-", "").upper()
    if not _ID_RE.fullmatch(value):
        raise DeviceError(f"device id must be 12 hexadecimal digits, got {text!r}")
    return value


def load_identity(data_dir: Path, now: float, override: str | None = None,
                  firmware: str = FIRMWARE) -> DeviceIdentity:
    """The device id: the override if given, else the one kept in the data dir, else a new
    one generated once and kept there."""
    path = data_dir / "identity.json"
    stored: dict[str, object] = {}
    try:
        stored = json.loads(path.read_text("utf-8"))
        device_id = normalise_device_id(str(stored["device_id"]))
        created = float(str(stored.get("created", 0.0)))
    except FileNotFoundError:
        device_id, created = "", 0.0
    except (ValueError, KeyError, TypeError, DeviceError) as exc:
        _LOG.error("identity file %s is unreadable (%s); generating a new id", path, exc)
        device_id, created = "", 0.0
    if not device_id:
        device_id = _OUI + secrets.token_hex(3).upper()
        created = now
        atomic_write(path, json.dumps({"device_id": device_id, "created": created}).encode()
                     + b"\n")
        _LOG.info("generated device id %s", device_id)
    if override:
        device_id = normalise_device_id(override)
    return DeviceIdentity(device_id, created=created, firmware=firmware)


@dataclass(frozen=True, slots=True)
class BootInfo:
    boot_id: str  # 8 upper-case hex digits, new at every boot
    wall: float  # the clock's wall time at boot
    mono: float  # the clock's monotonic time at boot

    @classmethod
    def new(cls, wall: float, mono: float) -> BootInfo:
        return cls(secrets.token_hex(4).upper(), wall, mono)
