"""docs/meter-status.md is the status machine's own table: generated from the code, kept
equal to it."""

from __future__ import annotations

from emulator.device.status import MeterStatus, describe
from tests.conftest import PROJECT_ROOT


def test_the_documented_table_is_the_machine() -> None:
    text = (PROJECT_ROOT / "docs" / "meter-status.md").read_text("utf-8")
    assert text.endswith(describe()), "regenerate docs/meter-status.md from describe()"


def test_the_table_has_a_row_per_status() -> None:
    rows = [line for line in describe().splitlines()[2:] if line.startswith("| ")]
    assert [row.split(" | ")[0][2:] for row in rows] == [s.value for s in MeterStatus]
