"""Shared test set-up: where the real captures are, and the guard against lingering tasks."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from blockbuster import BlockBuster, blockbuster_ctx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
REAL_FIXTURES = SHARED / "fixtures" / "real"
SPEC = SHARED / "spec"


def _shared(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared file missing under CI: {path}")
        pytest.skip(f"shared files not available: {path}")
    return path


def real_fixture(*parts: str) -> Path:
    """Path of a real capture under ../shared/fixtures/real.

    Skips the test with a reason when the folder is absent, except under CI (the
    environment variable CI is set), where a missing capture is a failure.
    """
    return _shared(REAL_FIXTURES.joinpath(*parts))


def spec_file(*parts: str) -> Path:
    """Path of a page of the specification under ../shared/spec (same skip rule)."""
    return _shared(SPEC.joinpath(*parts))


def program(name: str) -> str:
    """Path of an outside program a test talks to (curl): skips without it, except under
    CI, where .ci/run installs it and its absence is a failure."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing under CI (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(autouse=True)
async def _no_lingering_tasks() -> AsyncIterator[None]:
    """Fail any async test that leaves tasks running on the loop when it ends."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # pragma: no cover - sync tests run on a loop too in auto mode
        yield
        return
    before = asyncio.all_tasks(loop)
    yield
    # Give cancelled tasks one turn to finish their cleanup before judging.
    await asyncio.sleep(0)
    current = asyncio.current_task()
    lingering = [
        t for t in asyncio.all_tasks(loop) - before
        if t is not current and not t.done()
    ]
    if lingering:
        for task in lingering:
            task.cancel()
        await asyncio.gather(*lingering, return_exceptions=True)
        names = ", ".join(sorted(t.get_name() + ":" + repr(t.get_coro()) for t in lingering))
        pytest.fail(f"test left {len(lingering)} task(s) running: {names}")


#: Where the device may touch the disk on the event loop: building a device reads its data
#: dir once, before it serves (a fleet builds its devices the same way); parsing --meter
#: looks at the path; the meter-only server makes (and removes) its pty link.
START_UP = [("emulator/app.py", {"__init__", "build_device", "provision_virtual_meter"}),
            ("emulator/device/settings/registry.py", {"__init__"}),
            ("emulator/api/__init__.py", {"create_app"}),
            ("emulator/meter/source.py", {"parse"}),
            ("emulator/meter/serve.py", {"start", "stop"})]


@pytest.fixture(autouse=True)
def _no_blocking_calls() -> Iterator[BlockBuster]:
    """Fail any test in which the emulator's own code makes a blocking call (file I/O,
    time.sleep, a blocking socket) on a running event loop: such work belongs in a thread.
    Only calls made from emulator/ and meter_protocols/ frames count; a test's own code
    may block."""
    with blockbuster_ctx(["emulator", "meter_protocols"]) as buster:
        for function in buster.functions.values():
            for filename, names in START_UP:
                function.can_block_in(filename, names)
        yield buster
