"""The SD card's CSV row (newer docs, 50-settings/sdcard/csv-format.md): 64 columns in the
documented order, one table. Text fields are quoted, numbers the meter did not send are
left empty, RP is the report period in milliseconds, TIME is the report's moment in UTC
with a Z (what current firmware writes; see docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from emulator.device.values import Report, num, utc_z


@dataclass(frozen=True, slots=True)
class RowContext:
    """What a row needs besides the report: the meter status when the row is written."""

    meter_status: str


Cell = Callable[[Report, RowContext], str]


def _text(value: str) -> str:
    """A quoted text field; a row is always one line (CR/LF become spaces)."""
    clean = value.replace("\r", " ").replace("\n", " ").replace('"', '""')
    return f'"{clean}"'


def _obis(short: str) -> Cell:
    def cell(report: Report, _ctx: RowContext) -> str:
        value = report.value(short)
        return "" if value is None else str(num(value))
    return cell


def _tariff(report: Report, _ctx: RowContext) -> str:
    tariff = report.reading.tariff
    return "" if tariff is None else str(tariff)


def _tariffs(prefix: str, c: int, d: int = 8) -> list[tuple[str, Cell]]:
    return [(f"{prefix}_T", _obis(f"{c}.{d}.0")), (f"{prefix}_T1", _obis(f"{c}.{d}.1")),
            (f"{prefix}_T2", _obis(f"{c}.{d}.2"))]


def _phases(prefix: str, total: int, l1: int) -> list[tuple[str, Cell]]:
    return [(f"{prefix}_T", _obis(f"{total}.7.0"))] + [
        (f"{prefix}_L{i + 1}", _obis(f"{l1 + 20 * i}.7.0")) for i in range(3)]


#: The 64 columns, in the documented order: wire name -> how the cell is made.
COLUMNS: Final[tuple[tuple[str, Cell], ...]] = (
    ("RID", lambda r, _c: str(r.id)),
    ("TIME", lambda r, _c: _text(utc_z(r.timestamp))),
    ("MID", lambda r, _c: _text(r.reading.identity.meter_id)),
    ("MSTAT", lambda _r, c: _text(c.meter_status)),
    ("TARIFF", _tariff),
    ("PF", _obis("13.7.0")),
    *_tariffs("EAP", 1), *_tariffs("EAN", 2), *_tariffs("ERP", 3), *_tariffs("ERN", 4),
    *_tariffs("ERII", 5), *_tariffs("ERIC", 6), *_tariffs("EREI", 7), *_tariffs("EREC", 8),
    *_tariffs("MDAP", 1, 6), *_tariffs("MDAN", 2, 6),
    *_phases("IPAP", 1, 21), *_phases("IPAN", 2, 22),
    *_phases("IPRP", 3, 23), *_phases("IPRN", 4, 24),
    ("IPA_T", _obis("9.7.0")),
    ("V_L1", _obis("32.7.0")), ("V_L2", _obis("52.7.0")), ("V_L3", _obis("72.7.0")),
    ("I_L1", _obis("31.7.0")), ("I_L2", _obis("51.7.0")), ("I_L3", _obis("71.7.0")),
    ("MIDENT", lambda r, _c: _text(r.reading.identity.logical_name)),
    ("MMODEL", lambda r, _c: _text(r.reading.identity.model)),
    ("MIF", lambda r, _c: _text(r.interface.value)),
    ("MPROT", lambda r, _c: _text(r.reading.protocol.value)),
    ("RP", lambda r, _c: str(round(r.interval * 1000))),
)

NAMES: Final[tuple[str, ...]] = tuple(name for name, _cell in COLUMNS)

#: The first line of every day file.
HEADER: Final = ",".join(NAMES) + "\n"


def csv_row(report: Report, context: RowContext) -> str:
    """One row, newline included."""
    return ",".join(cell(report, context) for _name, cell in COLUMNS) + "\n"
