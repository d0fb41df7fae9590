"""A meter line that cannot be opened says why, in the diagnostics and once in the log, and
the device keeps trying with backoff."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.clock import ScaledClock
from emulator.meter.source import MeterSource
from emulator.runtime.backoff import Backoff
from tests.support import ENSOR_MOMENT


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def attempts(app: EmulatorApp, count: int) -> None:
    """Until the link has failed to open the line `count` times."""
    while app.link is None or sum(app.link.quiet.counts.values()) < count:  # noqa: ASYNC110 - a counter, no event
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(("source", "words"), [
    ("/dev/ttyNOPE", "no such device"),
    (f"socket://127.0.0.1:{closed_port()}", "connection refused"),
])
async def test_why_the_line_cannot_be_opened(tmp_path: Path, source: str, words: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    app = EmulatorApp(AppConfig(data_dir=tmp_path, meter=MeterSource.parse(source),
                                mdns=False), ScaledClock(20, ENSOR_MOMENT), services=[],
                      backoff=Backoff(0.1, 0.2), http=False)
    with caplog.at_level(logging.WARNING):
        await app.start()
        try:
            await asyncio.wait_for(attempts(app, 3), 30)
            diagnostics = app.device.diagnostics()
        finally:
            await app.stop()
    assert diagnostics["status"] == "NOT CONNECTED"
    assert words in diagnostics["message"]
    lines = [r for r in caplog.records if "cannot open the meter line" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]  # once per cause, not per try
    assert words in lines[0].getMessage()
