"""`whatwatt-emulator record --meter PORT --out FILE`: capture a real meter for a bug report.

The device's own link (auto-detection included) reads PORT; the bytes it reads at the
settings it locks on are written to FILE as a capture that `--meter replay:FILE` plays
(emulator.meter.record says the format). Ctrl-C ends the recording; the file keeps
everything read so far.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from emulator.app import build_device, make_line
from emulator.cli import Parser, meter_source
from emulator.config import AppConfig
from emulator.device.clock import ScaledClock
from emulator.device.core import Device
from emulator.device.errors import SettingsError
from emulator.device.settings import sections
from emulator.meter.line import Line, LineError
from emulator.meter.record import Outcome, record
from emulator.meter.serial_line import why_unavailable
from emulator.meter.source import MeterSource, SourceKind
from meter_protocols.line import LineSettings

USAGE_ERROR = 2


def _port(text: str) -> MeterSource:
    source = meter_source(text)
    if source.kind not in (SourceKind.SERIAL, SourceKind.SOCKET):
        raise argparse.ArgumentTypeError(
            f"{text}: record a serial port, a pty or socket://HOST:PORT (a virtual meter "
            "needs no recording: serve it with 'whatwatt-emulator meter --pty')")
    return source


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="whatwatt-emulator record",
        description="Capture a meter's raw bytes, with their times and the detected line "
                    "settings, in the format --meter replay:FILE plays.")
    p.add_argument("--meter", type=_port, required=True, metavar="PORT",
                   help="/dev/ttyUSB0, /dev/serial/by-id/..., a pty, socket://HOST:PORT")
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="the capture to write (replaced if it exists)")
    p.add_argument("--frames", type=_count, default=None, metavar="N",
                   help="stop after N decoded frames (default: until Ctrl-C)")
    p.add_argument("--key", metavar="HEX32", default=None,
                   help="the meter's encryption key (GUEK), to decode its frames while "
                        "recording; never written to the capture")
    p.add_argument("--auth-key", metavar="HEX32", default=None,
                   help="the meter's authentication key (GAK), if it has one")
    p.add_argument("--timezone", default="Europe/Zurich", help="the meter's time zone")
    return p


async def _enter_keys(device: Device, args: argparse.Namespace) -> None:
    """Keys as the meter settings take them (validated there: a bad one is a start-up
    error). Without them an encrypted meter is still recorded: the link locks on its line
    and reports KEY REQUIRED; only the `# reading:` comments are missing."""
    changes: dict[str, object] = {}
    if args.key is not None:
        changes.update(encryption=True, encryption_key=args.key)
    if args.auth_key is not None:
        changes["authentication_key"] = args.auth_key
    if changes:
        try:
            await device.settings.aput(sections.METER, changes)
        except SettingsError as exc:
            raise _CannotOpen(str(exc)) from exc


class _CannotOpen(Exception):
    """The recording cannot start; the message is the one line the user sees."""


async def _check_port(line: Line) -> None:
    """Open the port once: one that cannot be opened is a start-up error here (the device
    itself would retry for ever; a recording wants to know now)."""
    try:
        await line.open(LineSettings())
    except LineError as exc:
        raise _CannotOpen(f"cannot open {line.name}: {why_unavailable(exc)}") from exc
    await line.close()


async def _run(args: argparse.Namespace, data_dir: Path) -> Outcome:
    clock = ScaledClock(1.0, None)
    config = AppConfig(data_dir=data_dir, meter=args.meter, timezone=args.timezone,
                       sdcard=False, mdns=False)
    device = build_device(config, clock)
    await _enter_keys(device, args)
    await _check_port(make_line(args.meter, clock, 1, device.zone))
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
    print(f"whatwatt-emulator: recording {args.meter} to {args.out} (Ctrl-C ends it)",
          file=sys.stderr, flush=True)
    outcome = Outcome()
    with contextlib.suppress(asyncio.CancelledError):  # Ctrl-C: the recording's end
        await record(device, lambda: make_line(args.meter, clock, 1, device.zone),
                     args.out, str(args.meter), frames=args.frames, outcome=outcome)
    return outcome


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    try:
        args.out.open("a").close()
    except OSError as exc:
        print(f"whatwatt-emulator: error: cannot write {args.out}: {exc.strerror}",
              file=sys.stderr, flush=True)
        return USAGE_ERROR
    try:
        with tempfile.TemporaryDirectory(prefix="whatwatt-record-") as data_dir:
            outcome = asyncio.run(_run(args, Path(data_dir)))
    except _CannotOpen as exc:
        print(f"whatwatt-emulator: error: {exc}", file=sys.stderr, flush=True)
        return USAGE_ERROR
    if outcome.frames:
        print(f"whatwatt-emulator: recorded {outcome.frames} frames at {outcome.line} "
              f"({outcome.protocol}) to {args.out}", flush=True)
    else:
        print(f"whatwatt-emulator: no frame was decoded; {args.out} holds no capture",
              flush=True)
    return 0
