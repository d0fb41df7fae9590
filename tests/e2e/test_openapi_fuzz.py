"""Schemathesis against the real program over real HTTP on loopback, with the document the
program serves at /emulator/v1/openapi.json.

Bounded: a fixed number of examples per operation, derandomized (the same cases every run).
Operations the document marks `x-emulator-not-fuzzed` (reboot, factory reset, firmware
upload, SD delete, the password, HTTP faults, scenarios...) are left out of the main run
and fuzzed on throwaway devices of their own, except the endless event streams and the
MQTT settings (they would make the device connect to any host named in a body), which are
tested on their own elsewhere. The lists are pinned below, so nothing leaves the fuzz run
silently. Operations the contract describes but this build does not route yet are left out
(tests/emulator/api/test_openapi.py pins those).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

#: Examples per operation (bounded: CI runs this on a loaded 2-core machine).
EXAMPLES = os.environ.get("WHATWATT_FUZZ_EXAMPLES", "10")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance")

THROWAWAY_EXAMPLES = "5"

#: Never fuzzed: endless streams (a fuzzer waits for a body that never ends), and settings
#: that make the device connect to whatever broker the body names (traffic off loopback).
NEVER = {
    ("GET", "/api/v1/live"), ("GET", "/emulator/v1/ui/stream"),
    ("POST", "/api/v1/mqtt/settings"), ("PUT", "/api/v1/mqtt/settings"),
}
#: Destructive but local: fuzzed on a device started for them and thrown away after. Two
#: devices: actions are defined on A and called on B (where none can be defined, so a call
#: never sends a request anywhere); B's settings may set a password (then 401, described).
THROWAWAY_A = {
    ("POST", "/api/v1/reboot"), ("POST", "/api/v1/restore"), ("POST", "/load"),
    ("DELETE", "/sdcard/{path}"), ("POST", "/api/v1/actions"),
}
THROWAWAY_B = {
    ("POST", "/api/v1/actions/call"), ("POST", "/api/v1/settings"),
    ("PUT", "/api/v1/settings"), ("POST", "/emulator/v1/protection"),
}
#: HTTP faults (they would slow, fail or drop the other operations' requests; they never
#: apply to /emulator/v1/*, so these three only meet each other), device events, scenarios.
THROWAWAY_C = {
    ("POST", "/emulator/v1/faults"), ("POST", "/emulator/v1/device"),
    ("POST", "/emulator/v1/scenario"), ("POST", "/emulator/v1/services"),
}
GROUPS = {"A": THROWAWAY_A, "B": THROWAWAY_B, "C": THROWAWAY_C}


def _start(data: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("WHATWATT_HTTP", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--http", "127.0.0.1:0", "--data-dir", str(data),
         "--no-mdns", "--seed", "7", "--log-level", "WARNING"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    prefix = "whatwatt-emulator: serving "
    if not line.startswith(prefix):
        _stop(process)
        pytest.fail(f"the emulator did not start: {line!r}")
    return process, line.removeprefix(prefix)


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def device_url(tmp_path: Path) -> Iterator[str]:
    """A device for the main run (the other tests start their own)."""
    process, url = _start(tmp_path / "data")
    try:
        yield url
    finally:
        _stop(process)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield method.upper(), path, operation


def _absent(url: str, path: str) -> bool:
    """A described path this build does not route: the device's own 404 page for it. Probed
    with OPTIONS (no route has it: 405 where the path exists), only paths without a
    parameter (a parametrized one answers 404 for an unknown id anyway, as described)."""
    if "{" in path:
        return False
    response = requests.request("OPTIONS", url + path, timeout=30)
    return response.status_code == 404


def _described(url: str) -> dict[str, Any]:
    response = requests.get(url + "/emulator/v1/openapi.json", timeout=30)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _ids(document: dict[str, Any], keys: set[tuple[str, str]]) -> set[str]:
    return {operation["operationId"] for method, path, operation in _operations(document)
            if (method, path) in keys}


def _schemathesis(url: str, document: dict[str, Any], tmp_path: Path, *,
                  include: set[str] | None = None, exclude: set[str] = frozenset(),
                  examples: str = EXAMPLES) -> None:
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    command = [sys.executable, "-m", "schemathesis.cli", "run", str(source),
               "--url", url, "--checks", CHECKS, "--max-examples", examples,
               "--phases", "examples,coverage,fuzzing", "--workers", "1",
               "--generation-deterministic", "--request-timeout", "30", "--no-color",
               "--suppress-health-check", "all"]
    for operation_id in sorted(include or ()):
        command += ["--include-operation-id", operation_id]
    for operation_id in sorted(exclude):
        command += ["--exclude-operation-id", operation_id]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900,
                         cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    selected = re.search(r"Selected: (\d+)/", run.stdout)
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert selected and tested, run.stdout[-3000:]
    assert tested[1] == selected[1], run.stdout[-3000:]  # every selected operation ran
    if include is not None:
        assert int(selected[1]) == len(include)
    print(run.stdout[-1500:])  # the summary, for a run with -s
    # The device took it all and answers afterwards (nothing wedged).
    system = requests.get(url + "/api/v1/system", timeout=30)
    assert system.status_code in (200, 401)  # 401: a run that set a password


def test_schemathesis_finds_no_failure(device_url: str, tmp_path: Path) -> None:
    document = _described(device_url)
    marked = {(method, path) for method, path, operation in _operations(document)
              if "x-emulator-not-fuzzed" in operation}
    assert marked == NEVER | THROWAWAY_A | THROWAWAY_B | THROWAWAY_C
    absent = {(method, path) for method, path, _ in _operations(document)
              if _absent(device_url, path)}
    skipped = _ids(document, marked | absent)
    fuzzed = {operation["operationId"] for _, _, operation in _operations(document)} - skipped
    assert len(fuzzed) >= 30, fuzzed  # the bulk of the API is fuzzed here, not skipped
    _schemathesis(device_url, document, tmp_path, exclude=skipped)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_the_destructive_operations_on_a_throwaway_device(group: str, tmp_path: Path) -> None:
    """Each group on a device of its own, started for it and thrown away after."""
    process, url = _start(tmp_path / "data")
    try:
        document = _described(url)
        wanted = _ids(document, {key for key in GROUPS[group] if not _absent(url, key[1])})
        if not wanted:
            pytest.skip(f"this build routes none of {sorted(GROUPS[group])} yet")
        _schemathesis(url, document, tmp_path, include=wanted, examples=THROWAWAY_EXAMPLES)
    finally:
        _stop(process)
