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
    # protocol: DSMR              the detector's verdict (its protocol family)
    # reading: {"1.8.0": ...}     after the chunk that completed a frame: its values as a
                                  decoder of that protocol, fed the kept bytes only, read
                                  them (base units, OBIS C.D.E)

The line locks when frames prove it (decoded, or ciphered without the key: an encrypted
meter is recorded without its key, only its readings are missing). A later `# line:`
comment says the link was searched anew and locked on other settings. The file is written
as it goes (at least every FLUSH_EVERY seconds), so a capture cut short (Ctrl-C, a crash)
keeps what it has. `recorded_settings` reads the header back as the meter settings under
which a replay decodes every frame of the file.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

from emulator.device.core import Device
from emulator.device.hub import SubscriptionEnded
from emulator.meter.line import Chunk, Line
from emulator.meter.readers import Reader
from emulator.meter.supervisor import LinkSupervisor
from meter_protocols.detect import Family
from meter_protocols.line import LineSettings
from meter_protocols.readings import FrameDecoded, Interface
from meter_protocols.status import MeterStatus
from meter_protocols.uart import LineProbe

_LOG = logging.getLogger(__name__)

MAGIC: Final = "# whatwatt-emulator capture 1"
#: Bytes kept while the detector searches (bytes older than that are dropped).
MAX_PENDING: Final = 256 * 1024
#: Statuses that only frames at the right line settings produce.
PROVEN: Final = frozenset({MeterStatus.OK, MeterStatus.KEY_REQUIRED,
                           MeterStatus.ENCRYPTION_KEY, MeterStatus.NOT_RECOGNIZED})
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


#: What the capture's own decoder makes of a kept piece: the values of each frame it ends.
Decode = Callable[[bytes], list[Mapping[str, float]]]


class CaptureText:
    """The capture's lines, from pieces; pure (the caller writes them).

    The `# reading:` comments come from a decoder of the locked protocol fed the kept
    bytes and nothing else, so they say exactly what the file holds: a frame the live link
    used as detection evidence (and did not report) is in the file and in the comments."""

    def __init__(self, port: str) -> None:
        self.port = port
        self.pending: deque[Piece] = deque()
        self.pending_bytes = 0
        self.dropped = 0  # bytes read at other settings than the locked ones
        self.locked: LineSettings | None = None
        self.decode: Decode | None = None
        self.readings = 0
        self.start: float | None = None

    def piece(self, piece: Piece) -> list[str]:
        if self.locked is None or piece.settings != self.locked:
            self.pending.append(piece)
            self.pending_bytes += len(piece.data)
            while self.pending_bytes > MAX_PENDING:
                self.pending_bytes -= len(self.pending.popleft().data)
            return []
        return self._kept(piece)

    def lock(self, settings: LineSettings, protocol: str, decode: Decode) -> list[str]:
        """The detector locked on `settings` (a frame decoded, or frames recognised that
        need a key): the bytes read at them are kept from now on, the others dropped."""
        if settings == self.locked:
            return []
        out: list[str] = []
        if self.locked is None:
            out += [MAGIC, f"# port: {self.port}",
                    f"# recorded: {datetime.now(UTC).isoformat(timespec='seconds')}"]
        out += [f"# line: {settings}", f"# protocol: {protocol}"]
        self.locked, self.decode = settings, decode
        for piece in self.pending:
            if piece.settings == settings:
                out += self._kept(piece)
            else:
                self.dropped += len(piece.data)
        self.pending.clear()
        self.pending_bytes = 0
        return out

    def _kept(self, piece: Piece) -> list[str]:
        if self.start is None:
            self.start = piece.at
        out = [f"{piece.at - self.start:.3f} {piece.data.hex()}"]
        for values in self.decode(piece.data) if self.decode is not None else ():
            self.readings += 1
            out.append("# reading: " + json.dumps(dict(sorted(values.items())),
                                                  separators=(",", ":")))
        return out


#: The detector's families as the meter settings' `protocol` names them.
_PROTOCOLS: Final = {"dsmr": "dsmr", "hdlc-dlms": "hdlc", "mbus-dlms": "mbus", "kmp": "kmp"}


def recorded_settings(capture: str) -> dict[str, object]:
    """The meter settings (/api/v1/meter/settings) that read a capture as it was recorded:
    the line and protocol of its first `# line:` / `# protocol:` header, fixed (no search),
    so a replay decodes from its first frame on. Empty for a capture without them."""
    out: dict[str, object] = {}
    for line in capture.splitlines():
        if not line.startswith("#"):
            if out:
                break
            continue
        key, _, value = line[1:].strip().partition(": ")
        if key == "line" and "baudrate" not in out:
            settings = LineSettings.parse(value)
            stop = f"{settings.stop_bits:g}"
            out.update(auto_baudrate=False, baudrate=settings.baudrate,
                       parity=settings.parity.value, stop_bits=stop)
        elif key == "protocol" and "protocol" not in out:
            protocol = _PROTOCOLS.get(value.lower())
            if protocol is not None:
                out["protocol"] = protocol
    return out


def _append(file: IO[str], lines: list[str]) -> None:
    file.write("".join(line + "\n" for line in lines))
    file.flush()


@dataclass
class Outcome:
    frames: int = 0  # frames in the capture (its `# reading:` comments)
    line: str = ""
    protocol: str = ""
    dropped: int = 0


def _decoder(device: Device, family: Family) -> Decode:
    """A reader of `family` with the device's meter settings (keys, scalers)."""
    clock = device.clock
    reader = Reader(family, device.settings.meter, device.settings.custom_scalers,
                    device.zone, clock.time())

    def decode(data: bytes) -> list[Mapping[str, float]]:
        return [event.reading.values for event in reader.feed(data, clock.time())
                if isinstance(event, FrameDecoded)]

    return decode


async def record(device: Device, make_line: Callable[[], Line], out: Path, port: str, *,
                 frames: int | None = None, outcome: Outcome | None = None) -> Outcome:
    """Record until the capture holds `frames` decoded frames (None: until cancelled); the
    file is complete up to the last chunk read whenever this ends. `outcome` is kept up to
    date as it goes (a caller that cancels the recording reads it there)."""
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

    def locked(status: MeterStatus) -> None:
        """Frames that prove the line (decoded, ciphered, of an unknown layout) lock it; a
        meter whose frames need a key the recorder was not given is recorded too."""
        session = supervisor.session
        candidate = session.detector.candidate if session is not None else None
        if status in PROVEN and candidate is not None and taps:
            settings = taps[-1].settings
            if settings != text.locked:
                lines.extend(text.lock(settings, candidate.family.value.upper(),
                                       _decoder(device, candidate.family)))
            outcome.line, outcome.protocol = str(settings), candidate.family.value

    remove = device.on_status(locked)
    subscription = device.reports.subscribe(4)
    task = asyncio.get_running_loop().create_task(supervisor.run(), name="record link")
    try:
        while frames is None or text.readings < frames:
            try:
                # Reports only wake this loop up; it writes what was read at least every
                # FLUSH_EVERY seconds, so the lines waiting stay few.
                async with asyncio.timeout(FLUSH_EVERY):
                    await subscription.get()
            except TimeoutError:
                pass
            outcome.frames = text.readings
            if lines:
                batch = lines[:]
                lines.clear()
                await asyncio.to_thread(_append, file, batch)
    except SubscriptionEnded:
        pass
    finally:
        remove()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        subscription.close()
        outcome.dropped = text.dropped
        outcome.frames = text.readings
        await asyncio.to_thread(_close, file, lines[:])
    return outcome


def _close(file: IO[str], lines: list[str]) -> None:
    try:
        _append(file, lines)
    finally:
        file.close()
