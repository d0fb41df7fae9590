"""DESIGN.md section 2's import rules, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

IO_LIBRARIES = {"asyncio", "aiohttp", "serial", "serialx", "serial_asyncio", "socket",
                "selectors", "subprocess", "threading", "zeroconf", "amqtt", "aiomqtt",
                "paho", "pymodbus"}
DECODERS = {"meter_protocols.dsmr", "meter_protocols.dlms", "meter_protocols.kmp",
            "meter_protocols.detect", "meter_protocols.uart"}


def imports_of(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((PROJECT_ROOT / package).rglob("*.py"))


def violates(name: str, forbidden: set[str]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def broken_rules(path: Path, forbidden: set[str]) -> list[str]:
    return sorted(n for n in imports_of(path.read_text()) if violates(n, forbidden))


RULES = [
    ("meter_protocols", IO_LIBRARIES | {"emulator", "webui"}),
    ("emulator/device", {"aiohttp", "serial", "serialx", "serial_asyncio", "emulator.api",
                         "emulator.services", "emulator.meter", "emulator.app"}),
    ("emulator/api", {"emulator.services", "emulator.meter", "emulator.app"} | DECODERS),
    ("emulator/services", {"emulator.api", "emulator.meter", "emulator.app"} | DECODERS),
]


@pytest.mark.parametrize(("package", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_import_rules(package: str, forbidden: set[str]) -> None:
    found = {str(p.relative_to(PROJECT_ROOT)): broken_rules(p, forbidden)
             for p in modules(package)}
    assert {k: v for k, v in found.items() if v} == {}


def test_only_the_composition_root_knows_every_part() -> None:
    parts = ("emulator.api", "emulator.meter", "emulator.services")
    for path in modules("emulator"):
        if path.name == "app.py":
            continue
        names = imports_of(path.read_text())
        knows = {p for p in parts if any(n == p or n.startswith(p + ".") for n in names)}
        assert len(knows) < 2, f"{path.relative_to(PROJECT_ROOT)} knows {sorted(knows)}"


def test_the_checker_sees_a_violation() -> None:
    # The rule checker itself must be able to fail.
    source = ("import asyncio\nfrom emulator.api import common\n"
              "from meter_protocols.obis import Obis\n")
    assert imports_of(source) == {"asyncio", "emulator.api", "meter_protocols.obis"}
    assert violates("asyncio.events", IO_LIBRARIES)
    assert not violates("asynciox", IO_LIBRARIES)
