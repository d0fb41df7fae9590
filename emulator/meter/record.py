"""Recording a meter line into a capture that `--meter replay:FILE` plays.

The device's own link supervisor reads the line (so the line settings and the protocol are
found the way the device finds them) through a tap that keeps every chunk it reads with
its time. Only bytes read at the settings the detector locked on are kept (bytes read at a
wrong baud rate or parity while searching are noise to a replay); until the lock they wait
in a bounded buffer.

The capture is the replay's timed-hex text (emulator.meter.replay_line), one chunk a line,
`SECONDS HEX`, seconds from the first chunk. Comment lines, which a replay skips, carry what
a developer needs to turn the capture into a test:

    # whatwatt-emulator capture 1
    # port: /dev/ttyUSB0
    # line: 115200 8N1            the settings the bytes were read at
    # protocol: dsmr              the detector's verdict
    # reading: {"1.8.0": ...}     after the chunk that completed a frame: its values as
                                  the device decoded them (base units, OBIS C.D.E)

A later `# line:` comment says the link was searched anew and locked on other settings.
The file is written as it goes (at every frame, and every FLUSH_EVERY seconds), so a
capture cut short (Ctrl-C, a crash) keeps what it has.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

from emulator.device.core import Device
from emulator.device.hub import SubscriptionEnded
from emulator.device.values import Report
from emulator.meter.line import Chunk, Line
from emulator.meter.supervisor import LinkSupervisor
from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface
from meter_protocols.uart import LineProbe

_LOG = logging.getLogger(__name__)

MAGIC: Final = "# whatwatt-emulator capture 1"
#: Bytes kept while the detector searches (bytes older than that are dropped).
MAX_PENDING: Final = 256 * 1024
#: Seconds (of the event loop, not the device clock) between writes at the latest.
FLUSH_EVERY: Final = 2.0


@dataclass(frozen=True, slots=True)
class Piece:
    at: float  # device clock
    settings: LineSettings
    data: bytes


class TapLine:
    """A Line that hands every chunk it reads, with the settings it was read at, to `tap`."""

    def __init__(self, inner: Line, tap: Callable[[Piece], None], clock: Callable[[], float]
                 ) -> None:
        self.inner = inner
        self.tap = tap
        self.clock = clock
        self.settings = LineSettings()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def interface(self) -> Interface:
        return self.inner.interface

    @property
    def reconfigurable(self) -> bool:
        return self.inner.reconfigurable

    def probe(self) -> LineProbe | None:
        return self.inner.probe()

    async def open(self, settings: LineSettings) -> None:
        await self.inner.open(settings)
        self.settings = settings

    async def reconfigure(self, settings: LineSettings) -> None:
        await self.inner.reconfigure(settings)
        self.settings = settings

    async def read(self) -> Chunk:
        chunk = await self.inner.read()
        if chunk.data:
            self.tap(Piece(self.clock(), self.settings, chunk.data))
        return chunk

    async def write(self, data: bytes) -> None:
        await self.inner.write(data)

    async def close(self) -> None:
        await self.inner.close()


class CaptureText:
    """The capture's lines, from pieces and reports; pure (the caller writes them)."""

    def __init__(self, port: str) -> None:
        self.port = port
        self.pending: deque[Piece] = deque()
        self.pending_bytes = 0
        self.dropped = 0  # bytes read at other settings than the locked ones
        self.locked: LineSettings | None = None
        self.start: float | None = None

    def piece(self, piece: Piece) -> list[str]:
        if self.locked is None or piece.settings != self.locked:
            self.pending.append(piece)
            self.pending_bytes += len(piece.data)
            while self.pending_bytes > MAX_PENDING:
                self.pending_bytes -= len(self.pending.popleft().data)
            return []
        return [self._line(piece)]

    def report(self, report: Report, settings: LineSettings, protocol: str) -> list[str]:
        """A decoded frame: lock on `settings` if not yet (or anew), then its values."""
        out: list[str] = []
        if settings != self.locked:
            if self.locked is None:
                out += [MAGIC, f"# port: {self.port}",
                        f"# recorded: {datetime.now(UTC).isoformat(timespec='seconds')}"]
            out += [f"# line: {settings}", f"# protocol: {protocol}"]
            self.locked = settings
            for piece in self.pending:
                if piece.settings == settings:
                    out.append(self._line(piece))
                else:
                    self.dropped += len(piece.data)
            self.pending.clear()
            self.pending_bytes = 0
        values = {key: report.reading.values[key] for key in sorted(report.reading.values)}
        out.append("# reading: " + json.dumps(values, separators=(",", ":")))
        return out

    def _line(self, piece: Piece) -> str:
        if self.start is None:
            self.start = piece.at
        return f"{piece.at - self.start:.3f} {piece.data.hex()}"


def _append(file: IO[str], lines: list[str]) -> None:
    file.write("".join(line + "\n" for line in lines))
    file.flush()


@dataclass
class Outcome:
    frames: int = 0
    line: str = ""
    protocol: str = ""
    dropped: int = 0


async def record(device: Device, make_line: Callable[[], Line], out: Path, port: str, *,
                 frames: int | None = None, outcome: Outcome | None = None) -> Outcome:
    """Record until `frames` frames were decoded (None: until cancelled); the file is
    complete up to the last chunk read whenever this ends. `outcome` is kept up to date
    as it goes (a caller that cancels the recording reads it there)."""
    text = CaptureText(port)
    outcome = outcome if outcome is not None else Outcome()
    file = await asyncio.to_thread(out.open, "w", encoding="ascii")
    lines: list[str] = []
    taps: list[TapLine] = []

    def tapped() -> Line:
        tap = TapLine(make_line(), lambda piece: lines.extend(text.piece(piece)),
                      device.clock.time)
        taps.append(tap)
        return tap

    supervisor = LinkSupervisor(device, tapped)
    subscription = device.reports.subscribe(64)
    task = asyncio.get_running_loop().create_task(supervisor.run(), name="record link")
    try:
        while frames is None or outcome.frames < frames:
            try:
                # Bytes that decode to nothing after the lock are written too, at least
                # every FLUSH_EVERY seconds: the lines waiting stay few.
                async with asyncio.timeout(FLUSH_EVERY):
                    report: Report | None = await subscription.get()
            except TimeoutError:
                report = None
            if report is not None:
                settings = taps[-1].settings
                protocol = report.reading.protocol.value
                lines.extend(text.report(report, settings, protocol))
                outcome.frames += 1
                outcome.line, outcome.protocol = str(settings), protocol
            if lines:
                batch = lines[:]
                lines.clear()
                await asyncio.to_thread(_append, file, batch)
    except SubscriptionEnded:
        pass
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        subscription.close()
        outcome.dropped = text.dropped
        await asyncio.to_thread(_close, file, [*lines] if text.locked else [])
    return outcome


def _close(file: IO[str], lines: list[str]) -> None:
    try:
        _append(file, lines)
    finally:
        file.close()
