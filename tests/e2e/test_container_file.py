"""Issue 10, the container: Docker is not available here, so the Dockerfile is checked by
reading it, and its health check is run for real against a device with protection on."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

from emulator.app import EmulatorApp
from emulator.config import AppConfig
from tests.conftest import PROJECT_ROOT

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()


def health_check_code() -> str:
    match = re.search(r'HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])', DOCKERFILE)
    assert match, "no exec-form HEALTHCHECK"
    argv = json.loads(match.group(1))
    assert argv[:2] == ["python", "-c"]
    return str(argv[2])


async def run_check(http: str) -> int:
    env = {**os.environ, "WHATWATT_HTTP": http}
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", health_check_code(),
                                                   env=env)
    return await asyncio.wait_for(process.wait(), 30)


async def test_the_health_check_passes_with_protection_on_and_any_port(tmp_path: Path) -> None:
    app = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data"))
    await app.start()
    try:
        await app.device.settings.aput("settings", {"system": {"protection": True,
                                                               "password": "pw-123"}})
        assert await run_check(f"0.0.0.0:{app.port}") == 0
        assert await run_check(f"127.0.0.1:{app.port}") == 0
        port = app.port
    finally:
        await app.stop()
    assert await run_check(f"0.0.0.0:{port}") == 1  # nobody answers: unhealthy


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    deps = DOCKERFILE.index("pip install --no-cache-dir -r")
    assert DOCKERFILE.index("COPY pyproject.toml") < deps < DOCKERFILE.index("COPY emulator")
    assert "COPY fixtures" not in DOCKERFILE


def test_the_image_user_may_open_serial_devices() -> None:
    assert re.search(r"useradd [^\n]*--groups dialout[^\n]* whatwatt", DOCKERFILE)
    assert "USER whatwatt" in DOCKERFILE
