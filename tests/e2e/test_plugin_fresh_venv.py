"""Issue 16's first promise: in a fresh virtual environment, `pip install .` and a test file
that uses only the plugin's fixtures passes (it reads a report, forces a value and sees it
in the report and the live stream, silences the meter into NO DATA, and turns the licence
off into `404 License required`). The package is installed from a copy of the project's
source (so no build output lands in the tree) through pip's ordinary cache; the
child pytest prints the example's wall time."""

from __future__ import annotations

import asyncio
import os
import shutil
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


#: What is not the project's source: never copied (a venv, caches, build output, data).
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "build",
                                    "dist", ".*_cache", "data", ".bench", "artifacts")


def source_copy(into: Path) -> Path:
    shutil.copytree(PROJECT_ROOT, into, ignore=NOT_SOURCE)
    return into


async def test_pip_install_then_a_client_test_file_passes(tmp_path: Path) -> None:
    source = await asyncio.to_thread(source_copy, tmp_path / "src")
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
