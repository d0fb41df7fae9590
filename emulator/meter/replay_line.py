"""replay:FILE: a recorded capture played onto a line, at its own pace (scaled by the
device's clock speed).

Two formats:
- text of hex lines, one frame per line, each optionally preceded by a time stamp
  (seconds as a number, relative or since the epoch, or ISO 8601); '#' starts a comment.
  Lines without time stamps are played one a second;
- anything else is raw bytes, played in 256-byte pieces at the pace of a 115200-baud line.
Once the capture has been played the line stays open and quiet, like a meter that stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import datetime
from pathlib import Path

from emulator.device.clock import Clock
from emulator.meter.line import Chunk, LineClosed, LineUnavailable
from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface
from meter_protocols.uart import LineProbe

_HEX_LINE = re.compile(r"(?:(\S+)\s+)?((?:[0-9A-Fa-f]{2}[\s:]*)+)")
RAW_PIECE = 256
RAW_RATE = 115200 / 10  # bytes per second


def _stamp(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text).timestamp()


def parse_capture(raw: bytes) -> list[tuple[float, bytes]]:
    """(seconds from the start, bytes) pairs of a capture file."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        entries: list[tuple[float | None, bytes]] = []
        for text_line in text.splitlines():
            line = text_line.split("#", 1)[0].strip()
            if not line:
                continue
            match = _HEX_LINE.fullmatch(line)
            if match is None:
                entries = []
                break
            stamp = match.group(1)
            try:
                when = _stamp(stamp) if stamp else None
            except ValueError:
                entries = []
                break
            entries.append((when, bytes.fromhex(re.sub(r"[\s:]", "", match.group(2)))))
        if entries:
            if all(when is not None for when, _ in entries):
                first = entries[0][0] or 0.0
                return [((when or 0.0) - first, data) for when, data in entries]
            return [(float(i), data) for i, (_, data) in enumerate(entries)]
    return [(i / RAW_RATE, raw[i:i + RAW_PIECE]) for i in range(0, len(raw), RAW_PIECE)]


class ReplayLine:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._queue: asyncio.Queue[Chunk] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = True

    @property
    def name(self) -> str:
        return f"replay:{self.path}"

    @property
    def interface(self) -> Interface:
        return Interface.NONE

    def probe(self) -> LineProbe | None:
        return None  # no electrical view of the line here

    @property
    def reconfigurable(self) -> bool:
        return False  # recorded bytes: line settings change nothing

    async def open(self, settings: LineSettings) -> None:
        try:
            # A capture may be large: read and parse it off the event loop.
            capture = await asyncio.to_thread(lambda: parse_capture(self.path.read_bytes()))
        except OSError as exc:
            raise LineUnavailable(f"cannot read {self.path}: {exc}") from exc
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(self._play(capture),
                                                            name=self.name)

    async def _play(self, capture: list[tuple[float, bytes]]) -> None:
        start = self.clock.time()
        for offset, data in capture:
            await self.clock.sleep_until(start + offset)
            self._queue.put_nowait(Chunk(data))

    async def read(self) -> Chunk:
        if self._closed:
            raise LineClosed(f"{self.name} is closed")
        return await self._queue.get()

    async def write(self, data: bytes) -> None:
        """A recording cannot answer."""

    async def reconfigure(self, settings: LineSettings) -> None:
        """Recorded bytes arrive as they were recorded."""

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
