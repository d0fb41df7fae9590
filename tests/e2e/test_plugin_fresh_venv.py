"""Issue 16's first promise: in a fresh virtual environment, `pip install .` and a test file
that uses only the plugin's fixtures passes (it reads a report, forces a value and sees it
in the report and the live stream, silences the meter into NO DATA, and turns the licence
off into `404 License required`). The package is installed from a copy of the project's
tracked files (so no build output lands in the tree) through pip's ordinary cache; the
child pytest prints the example's wall time."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

EXAMPLE = PROJECT_ROOT / "tests" / "emulator" / "testing" / "client_example.py"
INSTALL_LIMIT = 600.0  # a hang guard: a cold wheel cache downloads every dependency


async def run(*argv: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    process = await asyncio.create_subprocess_exec(
        *map(str, argv), cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), INSTALL_LIMIT)
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{argv}: exit {process.returncode}\n{text[-4000:]}"
    return text


def tracked_copy(into: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = PROJECT_ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


async def test_pip_install_then_a_client_test_file_passes(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is needed to list the project's files")
    source = await asyncio.to_thread(tracked_copy, tmp_path / "src")
    venv = tmp_path / "venv"
    started = time.perf_counter()
    await run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    await run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
              source, "pytest", cwd=tmp_path)
    installed = time.perf_counter() - started
    work = tmp_path / "client"
    work.mkdir()
    (work / "test_client.py").write_text(EXAMPLE.read_text())
    output = await run(python, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                       "test_client.py", cwd=work)
    assert "1 passed" in output
    assert "whatwatt-emulator" in await run(python, "-m", "pip", "list", cwd=work)
    print(f"fresh venv: install {installed:.1f} s; "
          + next(line for line in output.splitlines() if "wall time" in line))
