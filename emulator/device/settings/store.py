"""Settings on disk: one JSON file per endpoint, written atomically, versioned.

A write goes to a temporary file in the same folder, is flushed and fsync'ed, renamed over
the old file (atomic on POSIX), and the folder is fsync'ed, so a power cut at any moment
leaves either the old file or the new one, never a mix. Each file carries a format version
so a later release can migrate what an earlier one wrote.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from emulator.device.errors import DeviceError

_LOG = logging.getLogger(__name__)

#: Version of the file format this release writes.
FORMAT_VERSION = 1

Migration = Callable[[dict[str, Any]], dict[str, Any]]


#: Files hold passwords and keys: readable by their owner only.
FILE_MODE = 0o600
TMP_SUFFIX = ".tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new content only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class SettingsStore:
    """Reads and writes the settings files of one data directory."""

    def __init__(self, directory: Path,
                 migrations: Mapping[str, Mapping[int, Migration]] | None = None) -> None:
        self.directory = directory
        self._migrations = migrations or {}

    def path(self, section: str) -> Path:
        return self.directory / f"{section}.json"

    def load(self, section: str) -> dict[str, Any] | None:
        """The stored settings of `section`, migrated to the current format; None if absent
        or unreadable (an unreadable file is kept aside as <name>.corrupt for inspection)."""
        path = self.path(section)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DeviceError(f"cannot read settings {path}: {exc}") from exc
        try:
            document = json.loads(raw)
            version = int(document["version"])
            settings: dict[str, Any] = document["settings"]
            if not isinstance(settings, dict):
                raise TypeError("settings is not an object")
        except (ValueError, KeyError, TypeError) as exc:
            _LOG.error("settings file %s is unreadable (%s); using factory settings", path, exc)
            with contextlib.suppress(OSError):
                os.replace(path, path.with_suffix(".corrupt"))
            return None
        for step in range(version, FORMAT_VERSION):
            migrate = self._migrations.get(section, {}).get(step)
            if migrate is not None:
                settings = migrate(settings)
        if version > FORMAT_VERSION:
            _LOG.warning("settings %s were written by a newer release (format %d)", path, version)
        return settings

    def save(self, section: str, settings: Mapping[str, Any]) -> None:
        document = {"version": FORMAT_VERSION, "settings": settings}
        data = json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"
        atomic_write(self.path(section), data)

    def remove(self, section: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(section).unlink()

    def remove_stale_temporaries(self) -> None:
        """Temporary files a killed writer left behind (never read: the rename is what
        makes a write count)."""
        if self.directory.exists():
            for file in self.directory.glob(f".*{TMP_SUFFIX}"):
                with contextlib.suppress(OSError):
                    file.unlink()

    def clear(self) -> None:
        """Factory reset: every settings file goes."""
        if self.directory.exists():
            for file in self.directory.glob("*.json"):
                file.unlink()
