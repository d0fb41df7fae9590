"""Issue 10, first run: whatever is wrong at start-up (an option, an environment variable,
the port, the data dir) is one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.meter.serve import LinkInUse, replace_link
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


async def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WHATWATT_")}
    full_env.update(env or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", *args, cwd=PROJECT_ROOT, env=full_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def one_error_line(err: str) -> str:
    """The one line that says what is wrong (log lines of what went well before it, with
    their time stamps, are not counted)."""
    lines = [line for line in err.strip().splitlines() if not LOG_LINE.match(line)]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("whatwatt-emulator")
    return lines[0]


@contextlib.contextmanager
def busy_port() -> Iterator[int]:
    """A port of 127.0.0.1 that something else listens on, for the block's duration."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield int(busy.getsockname()[1])


async def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with busy_port() as port:
        code, out, err = await run_cli("--http", f"127.0.0.1:{port}",
                                       "--data-dir", str(tmp_path / "d"))
    assert code == 2
    assert err.count("\n") == 1  # exactly one line, even on a first run (new data dir)
    line = one_error_line(err)
    assert f"127.0.0.1:{port}" in line and "in use" in line
    assert "serving" not in out


async def test_a_data_dir_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, _, err = await run_cli("--http", "127.0.0.1:0", "--data-dir", str(blocker / "d"))
    assert code == 2
    assert "data dir" in one_error_line(err)


@pytest.mark.parametrize(("args", "env", "words"), [
    (["--timezone", "Mars/Olympus"], {}, "time zone"),
    (["--device-id", "XYZ"], {}, "12 hex digits"),
    ([], {"WHATWATT_SPEED": "abc"}, "WHATWATT_SPEED"),
    ([], {"WHATWATT_SEED": "x"}, "WHATWATT_SEED"),
    ([], {"WHATWATT_TIMEZONE": "Nowhere/City"}, "WHATWATT_TIMEZONE"),
    ([], {"WHATWATT_LOG_LEVEL": "loud"}, "WHATWATT_LOG_LEVEL"),
    (["--speed", "-1"], {}, "positive"),
])
async def test_bad_values_are_one_line_and_exit_2(tmp_path: Path, args: list[str],
                                                 env: dict[str, str], words: str) -> None:
    code, _, err = await run_cli("--http", "127.0.0.1:0", "--data-dir", str(tmp_path),
                                 *args, env=env)
    assert code == 2
    assert words in one_error_line(err)


async def test_help_works_with_a_bad_environment_and_shows_its_defaults() -> None:
    code, out, err = await run_cli("--help", env={"WHATWATT_SPEED": "abc",
                                                  "WHATWATT_HTTP": "0.0.0.0:9999"})
    assert code == 0, err
    assert "0.0.0.0:9999" in out


async def test_log_levels_are_case_insensitive(tmp_path: Path) -> None:
    # An unusable port after a good log level: the level was accepted (exit 2 comes later).
    code, _, err = await run_cli("--http", "127.0.0.1:99999", env={
        "WHATWATT_LOG_LEVEL": "debug", "WHATWATT_DATA_DIR": str(tmp_path)})
    assert code == 2
    assert "--http" in one_error_line(err)


def test_link_never_replaces_a_users_file(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.write_text("keep me")
    with pytest.raises(LinkInUse):
        replace_link(precious, "/dev/pts/9")
    assert precious.read_text() == "keep me"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.symlink_to(precious)
    with pytest.raises(LinkInUse):
        replace_link(elsewhere, "/dev/pts/9")
    assert os.readlink(elsewhere) == str(precious)
    ours = tmp_path / "ours"
    ours.symlink_to("/dev/pts/1")
    replace_link(ours, "/dev/pts/9")
    assert os.readlink(ours) == "/dev/pts/9"


async def test_meter_pty_link_over_a_file_is_one_line(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.write_text("keep me")
    code, _, err = await run_cli("meter", "--pty", "--link", str(precious))
    assert code == 2
    assert "not replaced" in one_error_line(err)
    assert precious.read_text() == "keep me"


def test_a_privileged_port_says_what_to_do() -> None:
    import errno  # noqa: PLC0415

    from emulator.cli import _hint, _why  # noqa: PLC0415

    refused = OSError(errno.EACCES, "error while attempting to bind: permission denied")
    assert _why(refused) == "permission denied"
    assert "--http 0.0.0.0:8080" in _hint(refused, 80)
    assert _hint(refused, 8080) == ""
