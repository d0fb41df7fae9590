"""The microSD card's files: a folder (`<data-dir>/sdcard/`) standing for the card's FAT
file system. It serves /sdcard/ (the SdCard port) and the logger's appends.

Safety: every path from a client is split into names and checked (no `..`, `.`, empty
name, backslash, NUL, absolute path or character FAT forbids), then walked from the
card's root one directory at a time with O_NOFOLLOW, so no symbolic link is ever
followed (a FAT card has none; one planted in the folder reads as missing) and nothing
outside the folder can be read, listed or deleted. All file work runs in a thread.

The logger's writes: a row is appended with one write() to a file opened O_APPEND, then
fsync'ed; a write that fails half way is cut back to the size before it, so a day file
only ever grows by whole rows. A power cut can still leave the last row torn (or a tail of
zeros the file system allocated); `repair()` cuts it off at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Final, TypeVar

from emulator.device.ports import SdEntry, SdPathRefused

T = TypeVar("T")

#: Characters a FAT name cannot hold (besides `/`, the separator, and controls).
_FAT_FORBIDDEN: Final = frozenset('\\<>:"|?*')
#: Entries a listing shows at most (a card's day files: ten years is 3650).
MAX_LISTING: Final = 10_000
#: The logger's day files, which repair() checks.
DAY_FILE: Final = re.compile(r"\d{8}\.CSV")
_TAIL: Final = 4096


def split_path(path: str) -> tuple[str, ...]:
    """The names of a card path ("" is the root, a trailing `/` is allowed)."""
    if path.startswith("/"):
        raise SdPathRefused("absolute path")
    names = path.split("/")
    if names[-1] == "":
        names.pop()
    for name in names:
        if name in ("", ".", ".."):
            raise SdPathRefused(f"invalid name {name!r} in path")
        if any(ch in _FAT_FORBIDDEN or ord(ch) < 0x20 for ch in name):
            raise SdPathRefused(f"invalid character in {name!r}")
    return tuple(names)


class CardFiles:
    """The card, as the SdCard port and as the logger's file system."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mounted(self) -> bool:
        return True

    # --- the SdCard port (async: the work runs in a thread) ------------------------------

    async def is_dir(self, path: str) -> bool:
        return await self._thread(self._is_dir, split_path(path))

    async def listing(self, path: str) -> list[SdEntry]:
        return await self._thread(self._listing, split_path(path))

    async def open(self, path: str) -> BinaryIO:
        return await self._thread(self._open, split_path(path))

    async def delete(self, path: str) -> None:
        names = split_path(path)
        if not names:
            raise SdPathRefused("the card's root cannot be deleted")
        await self._thread(self._delete, names)

    @staticmethod
    async def _thread(func: Callable[[tuple[str, ...]], T], names: tuple[str, ...]) -> T:
        return await asyncio.to_thread(func, names)

    # --- walking without following links -------------------------------------------------

    def _root_fd(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def _dir_fd(self, names: tuple[str, ...]) -> int:
        """An open descriptor of the directory at `names` (the caller closes it)."""
        fd = self._root_fd()
        for name in names:
            try:
                inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                                | os.O_CLOEXEC, dir_fd=fd)
            except OSError as exc:  # ENOENT, ENOTDIR, ELOOP (a link)
                raise FileNotFoundError(f"no directory {name!r} on the card") from exc
            finally:
                os.close(fd)
            fd = inner
        return fd

    @contextlib.contextmanager
    def _parent(self, names: tuple[str, ...]) -> Iterator[int]:
        fd = self._dir_fd(names[:-1])
        try:
            yield fd
        finally:
            os.close(fd)

    def _lstat(self, parent: int, name: str) -> os.stat_result:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            raise FileNotFoundError(f"no file {name!r} on the card")  # links, devices
        return st

    def _is_dir(self, names: tuple[str, ...]) -> bool:
        if not names:
            return True
        with self._parent(names) as parent:
            return stat.S_ISDIR(self._lstat(parent, names[-1]).st_mode)

    def _listing(self, names: tuple[str, ...]) -> list[SdEntry]:
        fd = self._dir_fd(names)
        out: list[SdEntry] = []
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        out.append(SdEntry(entry.name, 0, True))
                    elif entry.is_file(follow_symlinks=False):
                        size = entry.stat(follow_symlinks=False).st_size
                        out.append(SdEntry(entry.name, size, False))
                    if len(out) >= MAX_LISTING:
                        break
        finally:
            os.close(fd)
        return sorted(out, key=lambda e: e.name)

    def _open(self, names: tuple[str, ...]) -> BinaryIO:
        if not names:
            raise IsADirectoryError("the card's root is a directory")
        with self._parent(names) as parent:
            try:
                fd = os.open(names[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                             dir_fd=parent)
            except IsADirectoryError:
                raise
            except OSError as exc:  # ELOOP (a link), ENOENT
                raise FileNotFoundError(f"no file {names[-1]!r} on the card") from exc
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            os.close(fd)
            raise IsADirectoryError(f"{names[-1]!r} is a directory")
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise FileNotFoundError(f"no file {names[-1]!r} on the card")
        return os.fdopen(fd, "rb")

    def _delete(self, names: tuple[str, ...]) -> None:
        with self._parent(names) as parent:
            st = self._lstat(parent, names[-1])
            if stat.S_ISDIR(st.st_mode):
                # The fd-based rmtree never follows a link found inside the tree.
                shutil.rmtree(names[-1], dir_fd=parent)
            else:
                os.unlink(names[-1], dir_fd=parent)

    # --- the logger's side (called in a thread) ------------------------------------------

    def append_row(self, name: str, header: str, row: str) -> int:
        """Append `row` to the day file `name` (with `header` first if the file is new or
        empty) and fsync it; returns the file's size. On an error nothing of the row stays
        in the file and the OSError is raised."""
        root = self._root_fd()
        try:
            fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644,
                         dir_fd=root)
            try:
                size = os.fstat(fd).st_size
                data = ((header if size == 0 else "") + row).encode("utf-8")
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size)
                    raise
            finally:
                os.close(fd)
            if size == 0:
                os.fsync(root)  # the new file's directory entry
        finally:
            os.close(root)
        return size + len(data)

    def repair(self) -> list[str]:
        """Cut a torn last line off every day file in the card's root; returns the names
        of the files that were cut."""
        cut: list[str] = []
        root = self._root_fd()
        try:
            with os.scandir(root) as entries:
                names = [e.name for e in entries
                         if DAY_FILE.fullmatch(e.name) and e.is_file(follow_symlinks=False)]
            for name in sorted(names):
                if _repair_file(root, name):
                    cut.append(name)
        finally:
            os.close(root)
        return cut


def _repair_file(root: int, name: str) -> bool:
    fd = os.open(name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=root)
    try:
        size = os.fstat(fd).st_size
        keep = _complete_length(fd, size)
        if keep == size:
            return False
        os.ftruncate(fd, keep)
        os.fsync(fd)
        return True
    finally:
        os.close(fd)


def _complete_length(fd: int, size: int) -> int:
    """The length of the file's whole lines: up to and including its last newline."""
    end = size
    while end > 0:
        start = max(0, end - _TAIL)
        chunk = os.pread(fd, end - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0
