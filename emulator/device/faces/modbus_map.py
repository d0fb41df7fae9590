"""The Modbus face of a report: the register map of /api/v1/modbus and the 16-bit input
registers the Modbus TCP server answers from it.

A map is a list of register sets; a set has a start address (0-based), a word order
(msw: most significant word first, the Modbus convention; lsw: least significant first)
and registers laid out one after the other. A numeric register holds
`value * 10^scaler` in its type (short, int, long: signed integers of 1, 2, 4 words,
rounded and saturated; float, double: IEEE 754 of 2 and 4 words); values are the
report's (kW, kWh, kvar, kvarh, V, A), so scaler 3 gives W and Wh. A byte-array register
(ids, firmware, date-time) has a fixed size; bytes fill the words high byte first. What the
report does not carry reads as 0.

The identifiers are the table `IDS`; the types `TYPES`; the default map (the Siemens
PAC2200-like layout of the documentation) is `DEFAULT_MAP`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from emulator.device.errors import SettingsError
from emulator.device.values import Json, Report

#: Highest register address of the map (0-based; 30001..39999 in logical addressing).
LAST_ADDRESS: Final = 9998
SCALER_RANGE: Final = range(-6, 7)
WORD_ORDERS: Final = ("msw", "lsw")


@dataclass(frozen=True, slots=True)
class Sources:
    """What registers are filled from: the latest report (None before the first) and the
    device's own facts at the moment of the read."""

    report: Report | None
    now: float
    zone: ZoneInfo
    device_id: str  # 12 hex digits
    firmware: str  # "1.10.0"


Number = Callable[[Sources], float | None]
Octets = Callable[[Sources], bytes]


def _obis(code: str) -> Number:
    return lambda s: s.report.value(code) if s.report is not None else None


def _signed(positive: str, negative: str) -> Number:
    def value(s: Sources) -> float | None:
        if s.report is None:
            return None
        pos, neg = s.report.value(positive), s.report.value(negative)
        if pos is None and neg is None:
            return None
        return (pos or 0.0) - (neg or 0.0)
    return value


def _signed_current(current: str, positive: str, negative: str) -> Number:
    """A phase's current with the sign of its active power (negative while it exports)."""
    power = _signed(positive, negative)

    def value(s: Sources) -> float | None:
        amps = _obis(current)(s)
        if amps is None:
            return None
        watts = power(s)
        return -abs(amps) if watts is not None and watts < 0 else abs(amps)
    return value


def _report(read: Callable[[Report], float | None]) -> Number:
    return lambda s: read(s.report) if s.report is not None else None


def _date_time(t: float, zone: ZoneInfo) -> bytes:
    """The documentation's date-time type: year (2 bytes), month, day, hour, minute,
    second, DST flag; local time."""
    moment = datetime.fromtimestamp(t, zone)
    dst = moment.dst()
    return struct.pack(">HBBBBBB", moment.year, moment.month, moment.day, moment.hour,
                       moment.minute, moment.second, int(bool(dst)))


def _text(read: Callable[[Report], str]) -> Octets:
    return lambda s: read(s.report).encode("ascii", "replace") if s.report else b""


def _firmware(s: Sources) -> bytes:
    parts = [int(p) if p.isdigit() else 0 for p in s.firmware.split(".")[:6]]
    return bytes(min(p, 255) for p in parts)


def _report_time(s: Sources) -> bytes:
    return _date_time(s.report.timestamp, s.zone) if s.report is not None else b""


#: Padding: "0" reads as zeros, "1" as all bits set (NaN as a float).
PADDING: Final = {"0": 0x00, "1": 0xFF}

_OBIS_NUMBERS: Final = (
    [f"{c}.8.{t}" for c in range(1, 9) for t in range(3)]
    + [f"{c}.6.{t}" for c in (1, 2) for t in range(3)]
    + [f"{c + 20 * p}.7.0" for c in (1, 2, 3, 4) for p in range(4)]
    + ["9.7.0", "13.7.0", "31.7.0", "51.7.0", "71.7.0", "32.7.0", "52.7.0", "72.7.0"])

#: Numeric identifiers: where each value comes from, in the report's units.
NUMBERS: Final[Mapping[str, Number]] = {
    **{code: _obis(code) for code in _OBIS_NUMBERS},
    "power.active": _signed("1.7.0", "2.7.0"),
    **{f"power.active.l{i}": _signed(f"{1 + 20 * i}.7.0", f"{2 + 20 * i}.7.0")
       for i in (1, 2, 3)},
    "power.reactive": _signed("3.7.0", "4.7.0"),
    **{f"power.reactive.l{i}": _signed(f"{3 + 20 * i}.7.0", f"{4 + 20 * i}.7.0")
       for i in (1, 2, 3)},
    **{f"current.l{i}": _signed_current(f"{11 + 20 * i}.7.0", f"{1 + 20 * i}.7.0",
                                        f"{2 + 20 * i}.7.0") for i in (1, 2, 3)},
    "96.14.0": _report(lambda r: r.reading.tariff),
    "conv_factor": _report(lambda r: r.conv_factor),
    "report.timestamp": _report(lambda r: r.timestamp),
    "sys.timestamp": lambda s: s.now,
}

#: Byte-array identifiers: (size in bytes, where the bytes come from).
ARRAYS: Final[Mapping[str, tuple[int, Octets]]] = {
    "report.date_time": (8, _report_time),
    "96.1.0": (24, _text(lambda r: r.reading.identity.meter_id)),
    "96.1.1": (24, _text(lambda r: r.reading.identity.model)),
    "42.0.0": (24, _text(lambda r: r.reading.identity.logical_name)),
    "sys.id": (6, lambda s: bytes.fromhex(s.device_id)),
    "sys.firmware": (6, _firmware),
    "sys.date_time": (8, lambda s: _date_time(s.now, s.zone)),
}

IDS: Final = frozenset(PADDING) | frozenset(NUMBERS) | frozenset(ARRAYS)


@dataclass(frozen=True, slots=True)
class NumberType:
    words: int
    pack: str  # struct format, big-endian
    integral: bool


TYPES: Final[Mapping[str, NumberType]] = {
    "short": NumberType(1, ">h", True),
    "int": NumberType(2, ">i", True),
    "long": NumberType(4, ">q", True),
    "float": NumberType(2, ">f", False),
    "double": NumberType(4, ">d", False),
}
DEFAULT_TYPE: Final = "double"
BYTES_TYPE: Final = "hex"  # what the detailed view calls a byte-array register


@dataclass(frozen=True, slots=True)
class Register:
    id: str
    type: str  # a key of TYPES, or BYTES_TYPE for a byte array
    scaler: int = 0

    @property
    def size(self) -> int:
        """Its length in 16-bit registers."""
        if self.type == BYTES_TYPE:
            return (ARRAYS[self.id][0] + 1) // 2
        return TYPES[self.type].words


@dataclass(frozen=True, slots=True)
class RegisterSet:
    start: int
    word_order: str
    registers: tuple[Register, ...]

    @property
    def size(self) -> int:
        return sum(r.size for r in self.registers)

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.start + self.size


ModbusMap = tuple[RegisterSet, ...]


# --- definitions: parse, compact and detailed JSON ----------------------------------------


def parse_map(body: Any) -> ModbusMap:
    """A map from its JSON definition; SettingsError naming what is wrong."""
    if not isinstance(body, list):
        raise SettingsError("body: expected a JSON array of register sets")
    sets = tuple(_parse_set(item, f"[{i}]") for i, item in enumerate(body))
    reach: RegisterSet | None = None  # of the sets so far, the one that ends last
    for s in sorted((s for s in sets if s.size), key=lambda s: s.start):
        if reach is not None and s.start < reach.end:
            raise SettingsError(
                f"register sets overlap: {reach.start}..{reach.end - 1} and "
                f"{s.start}..{s.end - 1}")
        if reach is None or s.end > reach.end:
            reach = s
    return sets


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not value.is_integer()):
        raise SettingsError(f"{path}: expected an integer")
    return int(value)


def _parse_set(item: Any, path: str) -> RegisterSet:
    if not isinstance(item, dict):
        raise SettingsError(f"{path}: expected an object")
    if "start_address" not in item:
        raise SettingsError(f"{path}.start_address: required")
    start = _integer(item["start_address"], f"{path}.start_address")
    if not 0 <= start <= LAST_ADDRESS:
        raise SettingsError(f"{path}.start_address: {start} out of range 0..{LAST_ADDRESS}")
    order = item.get("word_order", "msw")
    if order not in WORD_ORDERS:
        raise SettingsError(f"{path}.word_order: must be one of {', '.join(WORD_ORDERS)}")
    registers = item.get("registers")
    if not isinstance(registers, list):
        raise SettingsError(f"{path}.registers: expected an array")
    out = RegisterSet(start, str(order), tuple(
        _parse_register(r, f"{path}.registers[{i}]") for i, r in enumerate(registers)))
    if out.end - 1 > LAST_ADDRESS:
        raise SettingsError(f"{path}: its registers end at {out.end - 1}, past the last "
                            f"address {LAST_ADDRESS}")
    return out


def _parse_register(item: Any, path: str) -> Register:
    if not isinstance(item, dict):
        raise SettingsError(f"{path}: expected an object")
    ident = item.get("id")
    if not isinstance(ident, str) or ident not in IDS:
        raise SettingsError(f"{path}.id: unknown identifier {ident!r}")
    kind = item.get("type", DEFAULT_TYPE)
    scaler = _integer(item.get("scaler", 0), f"{path}.scaler")
    if scaler not in SCALER_RANGE:
        raise SettingsError(f"{path}.scaler: {scaler} out of range -6..6")
    if ident in ARRAYS:
        # A byte array has its own size; a numeric type given for it is ignored.
        if kind != BYTES_TYPE and kind not in TYPES:
            raise SettingsError(f"{path}.type: must be one of {', '.join(TYPES)}")
        return Register(ident, BYTES_TYPE)
    if kind not in TYPES:
        raise SettingsError(f"{path}.type: must be one of {', '.join(TYPES)}")
    return Register(ident, str(kind), scaler)


def _register_json(register: Register) -> Json:
    if register.type == BYTES_TYPE:
        return {"id": register.id}
    return {"id": register.id, "type": register.type, "scaler": register.scaler}


def stored_json(modbus_map: ModbusMap) -> list[Json]:
    """The normalised definition, as the settings store keeps it."""
    return [{"start_address": s.start, "word_order": s.word_order,
             "registers": [_register_json(r) for r in s.registers]} for s in modbus_map]


def compact_json(modbus_map: ModbusMap) -> list[Json]:
    """GET /api/v1/modbus: the definition as POST takes it (word_order only when lsw)."""
    out: list[Json] = []
    for s in modbus_map:
        item: Json = {"start_address": s.start}
        if s.word_order != "msw":
            item["word_order"] = s.word_order
        item["registers"] = [_register_json(r) for r in s.registers]
        out.append(item)
    return out


def detailed_json(modbus_map: ModbusMap, hex_addresses: bool = False) -> list[Json]:
    """GET /api/v1/modbus?address_format=dec|hex: with end address, sizes and each
    register's address (hex: addresses as "0x0001" strings)."""
    def address(a: int) -> int | str:
        return f"0x{a:04X}" if hex_addresses else a

    out: list[Json] = []
    for s in modbus_map:
        registers: list[Json] = []
        at = s.start
        for r in s.registers:
            entry: Json = (_register_json(r) if r.type != BYTES_TYPE
                           else {"id": r.id, "type": BYTES_TYPE})
            entry.update(address=address(at), size=r.size)
            registers.append(entry)
            at += r.size
        out.append({"start_address": address(s.start), "word_order": s.word_order,
                    "end_address": address(s.end), "size": s.size, "registers": registers})
    return out


# --- the registers ---------------------------------------------------------------------------


def _words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def _number_words(value: float | None, kind: NumberType, scaler: int) -> list[int]:
    if value is None:
        return [0] * kind.words
    scaled = value * 10.0 ** scaler
    if kind.integral:
        if not math.isfinite(scaled):
            scaled = 0.0
        bits = 16 * kind.words
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return _words(struct.pack(kind.pack, max(low, min(high, round(scaled)))))
    if kind.words == 2 and math.isfinite(scaled) and abs(scaled) > 3.4028234663852886e38:
        scaled = math.copysign(math.inf, scaled)
    return _words(struct.pack(kind.pack, scaled))


def register_words(register: Register, sources: Sources, word_order: str) -> list[int]:
    """The 16-bit words of one register, in the order they are sent."""
    if register.id in PADDING:
        return [PADDING[register.id] * 0x0101] * register.size
    if register.type == BYTES_TYPE:
        size, octets = ARRAYS[register.id]
        data = octets(sources)[:size].ljust(size + size % 2, b"\0")
        return _words(data)
    words = _number_words(NUMBERS[register.id](sources), TYPES[register.type],
                          register.scaler)
    return words[::-1] if word_order == "lsw" else words


def read_registers(modbus_map: Sequence[RegisterSet], sources: Sources, address: int,
                   count: int) -> list[int] | None:
    """Registers address..address+count-1 (0-based), or None when any of them is outside
    every set of the map."""
    end = address + count
    out: dict[int, int] = {}
    for s in modbus_map:
        if s.end <= address or s.start >= end:
            continue
        at = s.start
        for r in s.registers:
            if at + r.size > address and at < end:
                for i, word in enumerate(register_words(r, sources, s.word_order)):
                    if address <= at + i < end:
                        out[at + i] = word
            at += r.size
    if len(out) < count:  # some address in the range belongs to no set
        return None
    return [out[a] for a in range(address, end)]


# --- the default map (the documentation's PAC2200-like layout) ------------------------------


def _set(start: int, *registers: tuple[str, str, int]) -> Json:
    return {"start_address": start,
            "registers": [{"id": i, "type": t, "scaler": k} for i, t, k in registers]}


def _pad(kind: str, n: int) -> list[tuple[str, str, int]]:
    return [("0", kind, 0)] * n


DEFAULT_MAP_JSON: Final[list[Json]] = [
    _set(1, ("32.7.0", "float", 0), ("52.7.0", "float", 0), ("72.7.0", "float", 0),
         *_pad("float", 3),
         ("current.l1", "float", 0), ("current.l2", "float", 0), ("current.l3", "float", 0),
         *_pad("float", 3),
         *[(f"power.active.l{i}", "float", 3) for i in (1, 2, 3)],
         *[(f"power.reactive.l{i}", "float", 3) for i in (1, 2, 3)],
         *_pad("float", 3)),
    _set(55, *_pad("float", 4), ("9.7.0", "float", 3), ("power.active", "float", 3),
         ("power.reactive", "float", 3), ("13.7.0", "float", 3)),
    _set(205, *_pad("int", 3), ("96.14.0", "int", 0), *_pad("int", 4)),
    _set(501, ("1.7.0", "float", 3), ("3.7.0", "float", 3), ("2.7.0", "float", 3),
         ("4.7.0", "float", 3), *_pad("float", 4), *_pad("int", 2)),
    _set(549, ("1.8.0", "float", 3), ("3.8.0", "float", 3), ("2.8.0", "float", 3),
         ("4.8.0", "float", 3)),
    _set(801, *[(f"{c}.8.{t}", "double", 3) for c in (1, 2, 3, 4) for t in (1, 2)],
         *_pad("double", 32)),
]
DEFAULT_MAP: Final = parse_map(DEFAULT_MAP_JSON)
