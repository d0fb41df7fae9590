"""Firmware updates (POST /load): the emulator's own image format, the update slot, and the
installed version kept in the data dir.

A real whatwatt image is of no use to an emulator, so it accepts images of its own format:

    WHATWATT-EMULATOR-FIRMWARE version=1.11.0 [model=WW_Go_1.2] [sha256=<64 hex digits>]\\n
    <any bytes: the image body>

The first line is the header: the marker, then space-separated key=value pairs. `version`
(MAJOR.MINOR.PATCH) is required; `model`, when given, must be the device's model; `sha256`,
when given, is the SHA-256 of the body and is checked (a damaged upload is refused). The
smallest valid image is the header line alone.

As on an ESP32 (OTA to the inactive app partition), the body is written to the slot as it
arrives (DATA_DIR/firmware/ota.bin); once verified, the new version is recorded atomically
(DATA_DIR/firmware/installed.json) and the device runs it from the next boot on, even if
the power fails before the reboot. A failed or interrupted upload changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, NoReturn

from emulator.device.errors import DeviceError
from emulator.device.settings.store import atomic_write

_LOG = logging.getLogger(__name__)

MAGIC = b"WHATWATT-EMULATOR-FIRMWARE"
#: The header line may not be longer than this (bytes, with its newline).
MAX_HEADER = 512
#: The largest image: an OTA app partition of the ESP32's 4 MB flash (0x1E0000 bytes).
MAX_IMAGE = 0x1E0000
_VERSION = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class FirmwareError(DeviceError):
    """An update that cannot go on; the message is shown to the client."""


class InvalidImage(FirmwareError):
    """Not an image of ours, or a damaged one (400)."""


class ImageTooLarge(FirmwareError):
    """Larger than the update slot (413)."""


class UpdateUnavailable(FirmwareError):
    """Busy with another update, or the slot cannot be written (503)."""


@dataclass(frozen=True, slots=True)
class ImageHeader:
    version: str
    model: str | None = None
    sha256: str | None = None


def parse_header(line: bytes) -> ImageHeader:
    """The header line (without its newline) of an image; InvalidImage if it is not one."""
    if not line.startswith(MAGIC + b" "):
        raise InvalidImage("not a whatwatt emulator firmware image")
    try:
        text = line[len(MAGIC) + 1:].decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidImage("firmware header is not ASCII") from exc
    fields: dict[str, str] = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise InvalidImage(f"firmware header: {item!r} is not key=value")
        fields[key] = value
    version = fields.get("version", "")
    if not _VERSION.fullmatch(version):
        raise InvalidImage("firmware header: version must be MAJOR.MINOR.PATCH")
    sha256 = fields.get("sha256")
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise InvalidImage("firmware header: sha256 must be 64 hexadecimal digits")
    return ImageHeader(version, fields.get("model"), sha256.lower() if sha256 else None)


def make_image(version: str, body: bytes = b"", model: str | None = None) -> bytes:
    """An image of our format (for tests and for users who want one)."""
    header = f"{MAGIC.decode()} version={version}"
    if model:
        header += f" model={model}"
    header += f" sha256={hashlib.sha256(body).hexdigest()}"
    return header.encode() + b"\n" + body


class UpdateState(StrEnum):
    IDLE = "idle"
    RECEIVING = "receiving"
    READY = "ready"  # verified; runs from the next boot
    FAILED = "failed"


class FirmwareSlot:
    """The update slot and the installed version. One upload at a time:
    begin() -> feed()* -> finish(), or abort() at any point."""

    def __init__(self, directory: Path | None, running: str, model: str,
                 max_image: int = MAX_IMAGE) -> None:
        self.directory = directory
        self.model = model
        self.max_image = max_image
        self.running = self._read_installed() or running
        self.state = UpdateState.IDLE
        self.received = 0
        self.error = ""
        self.pending: str | None = None
        self._header = b""
        self._parsed: ImageHeader | None = None
        self._hash = hashlib.sha256()
        self._file: BinaryIO | None = None

    # --- the upload ----------------------------------------------------------------------

    def begin(self) -> None:
        if self.state in (UpdateState.RECEIVING, UpdateState.READY):
            raise UpdateUnavailable("an update is already in progress" if
                                    self.state is UpdateState.RECEIVING else
                                    "an update is waiting for the reboot")
        self.state = UpdateState.RECEIVING
        self.received = 0
        self.error = ""
        self._header = b""
        self._parsed = None
        self._hash = hashlib.sha256()
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._file = open(self._slot_path, "wb")  # noqa: SIM115 - held across feeds
            except OSError as exc:
                self._fail(f"cannot open the update slot: {exc.strerror}")
                raise UpdateUnavailable("cannot write the update slot") from exc

    def feed(self, chunk: bytes) -> None:
        if self.state is not UpdateState.RECEIVING:
            raise FirmwareError("no update in progress")
        self.received += len(chunk)
        if self.received > self.max_image:
            self._fail("image too large")
            raise ImageTooLarge(f"firmware image larger than {self.max_image} bytes")
        body = chunk
        if self._parsed is None:
            self._header += chunk
            end = self._header.find(b"\n")
            if end < 0:
                if len(self._header) >= MAX_HEADER or not MAGIC.startswith(
                        self._header[:len(MAGIC)]):
                    self._invalid("not a whatwatt emulator firmware image")
                return
            if end + 1 > MAX_HEADER:  # the newline may come in the same chunk as the rest
                self._invalid(f"header line longer than {MAX_HEADER} bytes")
            try:
                self._parsed = parse_header(self._header[:end].rstrip(b"\r"))
            except InvalidImage as exc:
                self._invalid(str(exc))
            if self._parsed.model is not None and self._parsed.model != self.model:
                self._invalid(f"firmware for {self._parsed.model}, not {self.model}")
            body = self._header[end + 1:]
        self._hash.update(body)
        self._write(body)

    def finish(self) -> str:
        """Verify the whole image and make it the one the next boot runs; its version."""
        if self.state is not UpdateState.RECEIVING:
            raise FirmwareError("no update in progress")
        if self._parsed is None:
            self._invalid("not a whatwatt emulator firmware image" if self._header
                          else "empty file")
        header = self._parsed
        if header.sha256 is not None and header.sha256 != self._hash.hexdigest():
            self._invalid("firmware image damaged (SHA-256 mismatch)")
        try:
            if self._file is not None:
                self._file.flush()
                self._file.close()
                self._file = None
            if self.directory is not None:
                atomic_write(self.directory / "installed.json",
                             json.dumps({"version": header.version}).encode() + b"\n")
        except OSError as exc:
            self._fail(f"cannot store the image: {exc.strerror}")
            raise UpdateUnavailable("cannot store the firmware image") from exc
        self.state = UpdateState.READY
        self.pending = header.version
        _LOG.info("firmware %s verified (%d bytes); it runs after the reboot",
                  header.version, self.received)
        return header.version

    def abort(self, reason: str) -> None:
        if self.state is UpdateState.RECEIVING:
            self._fail(reason)

    def boot(self) -> str:
        """A reboot: the version the device runs from now on."""
        if self.state is UpdateState.READY and self.pending:
            _LOG.info("booting firmware %s (was %s)", self.pending, self.running)
            self.running = self.pending
        if self.state is not UpdateState.RECEIVING:
            self.state = UpdateState.IDLE
            self.pending = None
        return self.running

    def status(self) -> dict[str, str]:
        """What GET /load shows."""
        out = {"state": self.state.value, "firmware": self.running}
        if self.state is UpdateState.RECEIVING:
            out["received"] = str(self.received)
        if self.pending:
            out["pending"] = self.pending
        if self.error:
            out["error"] = self.error
        return out

    # --- internals -----------------------------------------------------------------------

    @property
    def _slot_path(self) -> Path:
        assert self.directory is not None
        return self.directory / "ota.bin"

    def _write(self, data: bytes) -> None:
        if self._file is None or not data:
            return
        try:
            self._file.write(data)
        except OSError as exc:
            self._fail(f"cannot write the update slot: {exc.strerror}")
            raise UpdateUnavailable("cannot write the firmware image (no space?)") from exc

    def _invalid(self, reason: str) -> NoReturn:
        self._fail(reason)
        raise InvalidImage(reason)

    def _fail(self, reason: str) -> None:
        self.state = UpdateState.FAILED
        self.error = reason
        self.pending = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self.directory is not None:
            with contextlib.suppress(OSError):
                self._slot_path.unlink()
        _LOG.warning("firmware update failed: %s", reason)

    def _read_installed(self) -> str | None:
        if self.directory is None:
            return None
        path = self.directory / "installed.json"
        try:
            version = json.loads(path.read_text("utf-8"))["version"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _LOG.error("installed firmware record %s is unreadable (%s)", path, exc)
            return None
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            _LOG.error("installed firmware record %s has no valid version", path)
            return None
        return version
