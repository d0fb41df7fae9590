"""Recording: a virtual meter served on a real pty by the real program, recorded by the real
program (`whatwatt-emulator record`), replayed through the device's link, gives the same
readings the recorder decoded; and the capture format's rules, piece by piece."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.device.clock import ScaledClock
from emulator.device.settings import sections
from emulator.meter.record import MAGIC, MAX_PENDING, CaptureText, Piece, recorded_settings
from emulator.meter.replay_line import ReplayLine, parse_capture
from emulator.meter.supervisor import LinkSupervisor
from meter_protocols.line import LineSettings
from meter_protocols.simulator.profiles import get_profile
from tests.conftest import PROJECT_ROOT
from tests.support import ZURICH, build_device, ensor_readings

HANG_GUARD = 60.0  # not a performance target: a wedged test fails instead of hanging
FRAMES = 4
SEED = 5
START = datetime(2025, 1, 22, 11, 54, 2, tzinfo=ZURICH)


async def _program(*args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", *args, cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


@contextlib.asynccontextmanager
async def served(profile: str) -> AsyncIterator[str]:
    """`whatwatt-emulator meter --profile PROFILE --pty`: the pty's path. The meter's clock
    runs 4 times faster (frames come sooner; their values are the same sequence)."""
    process = await _program("meter", "--profile", profile, "--pty", "--seed", str(SEED),
                             "--start-time", START.isoformat(), "--speed", "4")
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), HANG_GUARD)
        path = line.decode().strip()
        assert path.startswith("/dev/"), path
        yield path
    finally:
        if process.returncode is None:
            process.terminate()
        await process.communicate()


@pytest.fixture
async def meter_pty() -> AsyncIterator[str]:
    async with served("ensor-ers") as path:
        yield path


def recorded_readings(capture: str) -> list[dict[str, Any]]:
    prefix = "# reading: "
    return [json.loads(line.removeprefix(prefix)) for line in capture.splitlines()
            if line.startswith(prefix)]


async def replayed_readings(path: Path, data_dir: Path, count: int,
                            keys: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    clock = ScaledClock(speed=10.0)  # the capture plays at its own pace, ten times faster
    device = build_device(data_dir, clock)
    settings = recorded_settings(await asyncio.to_thread(path.read_text, "ascii"))
    await device.settings.aput(sections.METER, {**settings, **(keys or {})})
    subscription = device.reports.subscribe(count + 4)
    supervisor = LinkSupervisor(device, lambda: ReplayLine(path, clock))
    task = asyncio.get_running_loop().create_task(supervisor.run())
    try:
        out = []
        for _ in range(count):
            report = await asyncio.wait_for(subscription.get(), HANG_GUARD)
            out.append(dict(sorted(report.reading.values.items())))
        return out
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        subscription.close()


async def test_a_recording_of_a_meter_on_a_pty_replays_to_the_same_readings(
        meter_pty: str, tmp_path: Path) -> None:
    out = tmp_path / "capture.txt"
    recorder = await _program("record", "--meter", meter_pty, "--out", str(out),
                              "--frames", str(FRAMES))
    stdout, stderr = await asyncio.wait_for(recorder.communicate(), HANG_GUARD)
    assert recorder.returncode == 0, stderr.decode()
    capture = out.read_text(encoding="ascii")
    lines = capture.splitlines()
    assert lines[0] == MAGIC
    assert any(line.startswith("# line: ") for line in lines)
    assert "# protocol: DSMR" in lines
    recorded = recorded_readings(capture)
    # At least FRAMES: the bytes read at the locked settings while the link was searching
    # are kept too, and they may hold frames already.
    assert len(recorded) >= FRAMES
    assert f"recorded {len(recorded)} frames" in stdout.decode()
    assert all(reading["1.8.1"] > 0 for reading in recorded)  # real values, not empties
    replayed = await replayed_readings(out, tmp_path / "replay", len(recorded))
    assert replayed == recorded
    # ...and they are what the meter sent: consecutive frames of the same virtual meter
    # (same profile, seed and start), decoded here straight from its frames.
    sent = [dict(sorted(r.values.items()))
            for r in ensor_readings(400, seed=SEED, start=START.timestamp())]
    first = sent.index(recorded[0])
    assert sent[first:first + len(recorded)] == recorded


async def test_an_encrypted_meter_is_recorded_with_its_key_and_replays_with_it(
        tmp_path: Path) -> None:
    keys = get_profile("iskra-am550").keys
    assert keys is not None and keys.encryption_key and keys.authentication_key
    out = tmp_path / "capture.txt"
    async with served("iskra-am550") as pty:
        recorder = await _program("record", "--meter", pty, "--out", str(out), "--frames",
                                  "2", "--key", keys.encryption_key, "--auth-key",
                                  keys.authentication_key)
        _, stderr = await asyncio.wait_for(recorder.communicate(), HANG_GUARD)
    assert recorder.returncode == 0, stderr.decode()
    capture = out.read_text(encoding="ascii")
    assert keys.encryption_key not in capture.upper()  # keys never go into a capture
    recorded = recorded_readings(capture)
    assert len(recorded) >= 2 and recorded[0]
    settings = {"encryption": True, "encryption_key": keys.encryption_key,
                "authentication_key": keys.authentication_key}
    assert await replayed_readings(out, tmp_path / "replay", len(recorded),
                                   settings) == recorded


async def test_without_the_key_the_bytes_are_recorded_all_the_same(tmp_path: Path) -> None:
    """The link locks on an encrypted meter's line without a key (KEY REQUIRED): its bytes
    are recorded, only the readings are missing."""
    out = tmp_path / "capture.txt"
    async with served("iskra-am550") as pty:
        recorder = await _program("record", "--meter", pty, "--out", str(out))
        await _until(recorder, out, lambda text: sum(
            1 for line in text.splitlines() if line and not line.startswith("#")) >= 3)
        recorder.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(recorder.communicate(), HANG_GUARD)
    assert recorder.returncode == 0, stderr.decode()
    capture = out.read_text(encoding="ascii")
    assert capture.startswith(MAGIC)
    assert any(line.startswith("# protocol: ") and "DLMS" in line
               for line in capture.splitlines())
    assert recorded_readings(capture) == []


async def _until(process: asyncio.subprocess.Process, path: Path,
                 done: Callable[[str], bool]) -> None:
    """Another process's file offers nothing to await: look at it until `done`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_GUARD
    while not done(await asyncio.to_thread(_text, path)):
        if loop.time() > deadline or process.returncode is not None:
            if process.returncode is None:
                process.kill()
            _, stderr = await process.communicate()
            pytest.fail(f"the recording did not get there: {stderr.decode()[-2000:]}")
        await asyncio.sleep(0.1)


def _text(path: Path) -> str:
    return path.read_text(encoding="ascii") if path.exists() else ""


async def test_ctrl_c_ends_a_recording_and_keeps_what_was_read(meter_pty: str,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "capture.txt"
    recorder = await _program("record", "--meter", meter_pty, "--out", str(out))
    await _until(recorder, out, lambda text: len(recorded_readings(text)) >= 2)
    recorder.send_signal(signal.SIGINT)
    stdout, stderr = await asyncio.wait_for(recorder.communicate(), HANG_GUARD)
    assert recorder.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    recorded = recorded_readings(out.read_text(encoding="ascii"))
    assert f"recorded {len(recorded)} frames" in stdout.decode()
    replayed = await replayed_readings(out, tmp_path / "replay", len(recorded))
    assert replayed == recorded


@pytest.mark.parametrize(("args", "said"), [
    (("--meter", "virtual:ensor-ers", "--out", "{tmp}/c.txt"), "record a serial port"),
    (("--meter", "/dev/ttyUSB0", "--out", "{tmp}/no/such/dir/c.txt"), "cannot write"),
    (("--meter", "/dev/ttyUSB0", "--out", "{tmp}/c.txt", "--frames", "0"), "at least 1"),
    (("--meter", "{tmp}/ttyNOPE", "--out", "{tmp}/c.txt"), "no such device"),
])
async def test_a_recording_that_cannot_start_says_why_in_one_line(
        tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    process = await _program("record", *(a.format(tmp=tmp_path) for a in args))
    _, stderr = await asyncio.wait_for(process.communicate(), HANG_GUARD)
    assert process.returncode == 2
    lines = stderr.decode().splitlines()
    assert len(lines) == 1 and said in lines[0], lines
    assert lines[0].startswith("whatwatt-emulator")


def _piece(at: float, data: bytes, line: str = "115200 8N1") -> Piece:
    return Piece(at, LineSettings.parse(line), data)


def _frames_end_at_bang(data: bytes) -> list[dict[str, float]]:
    """A decoder for the text's own tests: one frame ends at each `!`."""
    return [{"1.8.0": float(i)} for i in range(data.count(b"!"))]


def test_bytes_read_at_other_settings_are_left_out_and_counted() -> None:
    text = CaptureText("/dev/ttyUSB0")
    assert text.piece(_piece(100.0, b"noise", "9600 7E1")) == []
    assert text.piece(_piece(101.0, b"/ESR5")) == []  # before the lock: held back
    lines = text.lock(LineSettings.parse("115200 8N1"), "DSMR", _frames_end_at_bang)
    assert lines[:2] == [MAGIC, "# port: /dev/ttyUSB0"]
    assert "# line: 115200 8N1" in lines and "# protocol: DSMR" in lines
    assert lines[-1] == "0.000 2f45535235"
    assert text.dropped == len(b"noise")
    assert text.piece(_piece(102.5, b"!\r\n")) == ["1.500 210d0a",  # from the first kept
                                                     '# reading: {"1.8.0":0.0}']
    assert text.readings == 1


def test_held_back_bytes_are_bounded() -> None:
    text = CaptureText("/dev/ttyUSB0")
    piece = bytes(4096)
    for i in range(2 * MAX_PENDING // len(piece)):
        text.piece(_piece(float(i), piece, "9600 7E1"))
    assert text.pending_bytes <= MAX_PENDING


def test_the_replay_skips_the_comments_and_plays_the_pieces_in_time() -> None:
    text = CaptureText("socket://127.0.0.1:2000")
    text.piece(_piece(10.0, b"\x01!"))
    lines = text.lock(LineSettings.parse("115200 8N1"), "DSMR", _frames_end_at_bang)
    lines += text.piece(_piece(11.25, b"\x03"))
    assert any(line.startswith("# reading: ") for line in lines)
    assert parse_capture(("\n".join(lines) + "\n").encode()) == [(0.0, b"\x01!"),
                                                                 (1.25, b"\x03")]


def test_a_line_change_after_the_lock_is_written_as_a_comment() -> None:
    text = CaptureText("/dev/ttyUSB0")
    text.lock(LineSettings.parse("115200 8N1"), "DSMR", _frames_end_at_bang)
    assert text.piece(_piece(1.0, b"\xaa", "2400 8E1")) == []
    lines = text.lock(LineSettings.parse("2400 8E1"), "MBUS-DLMS", _frames_end_at_bang)
    assert lines == ["# line: 2400 8E1", "# protocol: MBUS-DLMS", "0.000 aa"]


def test_the_recorded_settings_read_the_capture_as_it_was_recorded() -> None:
    text = CaptureText("/dev/ttyUSB0")
    lines = text.lock(LineSettings.parse("2400 8E1"), "MBUS-DLMS", _frames_end_at_bang)
    assert recorded_settings("\n".join(lines)) == {
        "auto_baudrate": False, "baudrate": 2400, "parity": "even", "stop_bits": "1",
        "protocol": "mbus"}
    assert recorded_settings("0.0 0102\n") == {}  # an older capture: nothing to fix
