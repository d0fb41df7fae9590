"""DSMR P1 decoder, sans-I/O: bytes in, MeterReading events out.

Framing is ours (bounded, bytes), and so is the CRC16/ARC (meter_protocols.crc: in C, a table
without it; dsmr-parser's loop over characters was half of the decode time); the
dialect tables that name each line are dsmr-parser's. Every data line is kept in the
reading (`lines`), named or not; electricity values the catalogue knows go to `values` in
base units.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

from meter_protocols.crc import crc16_arc
from meter_protocols.dsmr import dialects
from meter_protocols.dsmr.framing import MAX_TELEGRAM, TelegramFramer
from meter_protocols.guard import INPUT_FAULTS, fault
from meter_protocols.obis import CATALOGUE, Quantity, to_base_unit
from meter_protocols.readings import (
    Event,
    FrameDecoded,
    MbusChannel,
    MeterIdentity,
    MeterProtocol,
    MeterReading,
    ObisLine,
    ProblemKind,
    problem,
)
from meter_protocols.vendors import printable_hex, vendor_for

_LINE: Final = re.compile(r"(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:[.*]\d{1,3})?")
_GROUP: Final = re.compile(r"\(([^()]*)\)")
_NUMBER: Final = re.compile(r"[-+]?\d+(?:\.\d*)?")
_KILO_DEFAULT: Final = {Quantity.ACTIVE_ENERGY: "kWh", Quantity.REACTIVE_ENERGY: "kvarh",
                        Quantity.ACTIVE_POWER: "kW", Quantity.REACTIVE_POWER: "kvar",
                        Quantity.APPARENT_POWER: "kVA"}
_NUMERIC: Final = frozenset(q for q in Quantity if q is not Quantity.TEXT)


#: What a line is, from its OBIS code alone (decided once per code, see _line_code).
_KIND_OTHER: Final = 0  # kept in `lines` only
_KIND_CHANNEL: Final = 1  # 0-b:... with b > 0: an M-Bus channel's line
_KIND_NUMBER: Final = 2  # 1-x: a quantity the catalogue knows as a number
_KIND_TEXT: Final = 3  # 0-0: (or C.D.E = 0.0.0): a text the reading keeps

#: A line's OBIS code as written, its C.D.E, its B, its kind, the unit it has when the
#: meter writes none, and where its value groups start.
_Code = tuple[str, str, int, int, str | None, int]
#: A line of the last telegram: its code, groups (continuations included), ObisLine, value
#: in base units, and how many of the groups the line itself holds.
_Seen = tuple[_Code, tuple[str, ...], ObisLine, float | None, int]
#: Line heads remembered per decoder (a telegram has a few dozen lines).
CODES_KEPT: Final = 512
#: Text values turned printable, remembered per decoder (identities repeat every telegram).
TEXTS_KEPT: Final = 64


def _line_code(line: str) -> _Code | None:
    match = _LINE.match(line)
    if match is None:
        return None
    a, b, c, d, e = (int(g) for g in match.groups())
    short = f"{c}.{d}.{e}"
    info = CATALOGUE.get(short)
    unit = None
    if a == 0 and b > 0:
        kind = _KIND_CHANNEL
    elif a == 1 and info is not None and info.quantity in _NUMERIC:
        kind, unit = _KIND_NUMBER, _KILO_DEFAULT.get(info.quantity)
    elif a == 0 or short == "0.0.0":
        kind = _KIND_TEXT
    else:
        kind = _KIND_OTHER
    return f"{a}-{b}:{short}", short, b, kind, unit, match.end()


def crc16(text: str | bytes) -> int:
    """The P1 telegram CRC (CRC16/ARC over "/" ... "!"; text as Latin-1)."""
    return crc16_arc(text.encode("latin-1") if isinstance(text, str) else text)


def parse_timestamp(value: str, zone: ZoneInfo) -> datetime | None:
    """"YYMMDDhhmmssX" (X: S summer, W winter) in the meter's local zone."""
    if len(value) not in (12, 13) or not value[:12].isascii() or not value[:12].isdigit():
        return None
    try:  # strptime's "%y" pivot: 69-99 are 19xx, 00-68 are 20xx
        year = int(value[0:2])
        naive = datetime(year + (1900 if year >= 69 else 2000), int(value[2:4]),  # noqa: DTZ001 - zone set below
                         int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]))
    except ValueError:
        return None
    fold = 1 if value[12:] == "W" else 0
    return naive.replace(tzinfo=zone, fold=fold)


def parse_number(group: str) -> tuple[float, str | None] | None:
    """"000012.345*kWh" -> (12.345, "kWh"); None when it is not a finite number."""
    value, _, unit = group.partition("*")
    if not _NUMBER.fullmatch(value):
        return None
    number = float(value)  # hundreds of digits are a float too: inf, refused below
    return (number, unit or None) if math.isfinite(number) else None


def parse_count(text: str, max_digits: int = 9) -> int | None:
    """A small whole number written in ASCII digits ("0002" -> 2), else None.

    Not str.isdigit() + int(): isdigit() accepts "²" and other digits int() refuses, and
    int() refuses text of more than 4300 digits.
    """
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


class DsmrDecoder:
    protocol = MeterProtocol.DSMR

    def __init__(self, zone: ZoneInfo | None = None, max_size: int = MAX_TELEGRAM) -> None:
        self.zone = zone or ZoneInfo("Europe/Zurich")
        self._framer = TelegramFramer(max_size)
        self._namer = dialects.LineNamer()
        #: What precedes a line's first "(" -> its OBIS code (a meter repeats the same
        #: lines every telegram); bounded, as hostile input could write new heads for ever.
        self._codes: dict[str, _Code | None] = {}
        self._texts: dict[str, str] = {}
        #: The last telegram's lines, for its dialect (raw line -> _Seen).
        self._previous: dict[str, _Seen] = {}
        self._previous_dialect: dialects.Dialect | None = None

    def _printable(self, value: str) -> str:
        known = self._texts.get(value)
        if known is None:
            known = printable_hex(value) or value
            if len(self._texts) >= TEXTS_KEPT:
                self._texts.clear()
            self._texts[value] = known
        return known

    def reset(self) -> None:
        self._framer.reset()

    @property
    def buffered(self) -> int:
        return self._framer.buffered

    def feed(self, data: bytes) -> list[Event]:
        try:
            items = self._framer.feed(data)
        except INPUT_FAULTS as exc:
            self._framer.reset()
            return [fault(exc, "P1 framing", data[:64])]
        return [self.decode_telegram(item) if isinstance(item, bytes) else item
                for item in items]

    def flush(self) -> list[Event]:
        """End of input (a replayed file ended): decode what can still be decoded."""
        try:
            items = self._framer.flush()
        except INPUT_FAULTS as exc:
            self._framer.reset()
            return [fault(exc, "P1 framing")]
        return [self.decode_telegram(item) if isinstance(item, bytes) else item
                for item in items]

    def decode_telegram(self, raw: bytes) -> Event:
        """One complete telegram ("/" ... "!" CRC CR LF) -> its reading, or a problem."""
        try:
            return self._decode_telegram(raw)
        except INPUT_FAULTS as exc:
            return fault(exc, "P1 telegram", raw[:64])

    def _decode_telegram(self, raw: bytes) -> Event:
        text = raw.decode("latin-1")
        bang = text.rfind("!")
        crc_text = text[bang + 1:].strip().strip("\x00")
        if bang < 0:
            return problem(ProblemKind.MALFORMED, "no '!' in telegram", raw)
        if crc_text:
            try:
                expected = int(crc_text, 16)
            except ValueError:
                return problem(ProblemKind.MALFORMED, f"CRC field {crc_text!r} is not hex", raw)
            actual = crc16_arc(raw[:bang + 1])
            if actual != expected:
                return problem(ProblemKind.BAD_CRC,
                               f"CRC {actual:04X} computed, {crc_text} sent", raw)
        body = text[:bang].split("\n")
        header = body[0].rstrip("\r")
        codes = self._codes
        previous = self._previous
        # (code, groups, line, how many of the groups the line itself holds: more follow
        # on continuation lines, "(...)" alone, as DSMR 2.2 writes the gas reading)
        entries: list[tuple[_Code, list[str], str, int]] = []
        for raw_line in body[1:]:
            line = raw_line.strip()
            if not line:
                continue
            if line[0] == "(" and entries:
                entries[-1][1].extend(_GROUP.findall(line))
                continue
            known = previous.get(line)
            if known is not None:  # as in the last telegram (_reading checks its groups)
                own = known[4]
                entries.append((known[0], list(known[1][:own]), line, own))
                continue
            bracket = line.find("(")
            head = line if bracket < 0 else line[:bracket]
            if head in codes:
                code = codes[head]
            else:
                code = _line_code(line)
                if len(codes) < CODES_KEPT:
                    codes[head] = code
            if code is None:
                continue
            groups = _GROUP.findall(line, code[5])
            entries.append((code, groups, line, len(groups)))
        if not entries:
            return problem(ProblemKind.MALFORMED, "telegram without data lines", raw)
        return FrameDecoded(self._reading(header, entries, bool(crc_text)), len(raw))

    def _reading(self, header: str, entries: list[tuple[_Code, list[str], str, int]],
                 has_crc: bool) -> MeterReading:
        first = {code[0]: (vals[0] if vals else "") for code, vals, _, _ in entries}
        dialect = dialects.detect(header, first, has_crc)
        values: dict[str, float] = {}
        texts: dict[str, str] = {}
        lines: list[ObisLine] = []
        channels: dict[int, dict[str, object]] = {}
        name = self._namer.name
        # A meter repeats many lines unchanged from one telegram to the next (identity,
        # counters, slow energies): such a line's ObisLine and value are the last ones.
        if dialect is not self._previous_dialect:
            self._previous_dialect, self._previous = dialect, {}
        previous, current = self._previous, {}
        for code, vals, raw_line, own in entries:
            obis, short, b, kind, default_unit, _ = code
            groups = tuple(vals)
            known = previous.get(raw_line)
            if known is not None and known[1] == groups:
                line, base = known[2], known[3]
            else:
                line, base = ObisLine(obis, groups, name(dialect, obis, raw_line)), None
                if kind == _KIND_NUMBER and vals:
                    base = _base_value(vals[-1], default_unit)
            current[raw_line] = (code, groups, line, base, own)
            lines.append(line)
            if not vals or kind == _KIND_OTHER:
                continue
            if kind == _KIND_NUMBER:
                if base is not None and short not in values:
                    values[short] = base
            elif kind == _KIND_TEXT:
                if short not in texts:
                    texts[short] = self._printable(vals[0])
            else:
                _collect_channel(channels.setdefault(b, {}), short, vals, self.zone)
        self._previous = current
        tariff = parse_count(texts.get("96.14.0", ""))
        meter_time = parse_timestamp(first.get("0-0:1.0.0", ""), self.zone)
        return MeterReading(
            protocol=MeterProtocol.DSMR,
            values=MappingProxyType(values),
            identity=_identity(header, texts),
            protocol_version=dialects.protocol_version(first),
            meter_time=meter_time,
            tariff=tariff,
            texts=MappingProxyType(texts),
            lines=tuple(lines),
            mbus=tuple(_channel(bus, data) for bus, data in sorted(channels.items())),
        )


def _base_value(group: str, default_unit: str | None) -> float | None:
    """A number group in base units ("000012.345*kWh" -> 12345.0), None if it is none."""
    parsed = parse_number(group)
    if parsed is None:
        return None
    number, unit = parsed
    base = to_base_unit(number, unit or default_unit)[0]
    return base if math.isfinite(base) else None  # 1e306 kWh is no longer a float in Wh


def _identity(header: str, texts: dict[str, str]) -> MeterIdentity:
    logical_name = header.lstrip("/").strip()
    prefix = logical_name[:3].upper() if len(logical_name) >= 3 else ""
    model = texts.get("96.1.1", "")
    meter_id = (texts.get("96.1.0") or model or texts.get("42.0.0")
                or texts.get("0.0.0", ""))
    return MeterIdentity(meter_id=meter_id, logical_name=logical_name, model=model,
                         vendor=vendor_for(prefix), prefix=prefix)


def _collect_channel(data: dict[str, object], short: str, vals: list[str],
                     zone: ZoneInfo) -> None:
    if short == "24.1.0" and (device_type := parse_count(vals[0], 3)) is not None:
        data["device_type"] = device_type
    elif short in ("96.1.0", "96.1.1"):
        data["meter_id"] = printable_hex(vals[0]) or vals[0]
    elif short in ("24.2.1", "24.2.3", "24.3.0"):
        data["captured_at"] = parse_timestamp(vals[0], zone)
        parsed = parse_number(vals[-1])
        if parsed is not None:
            data["value"], unit = parsed
            # DSMR 2.2/3 gas (24.3.0) writes the unit in its own group before the value line.
            if unit is None and short == "24.3.0" and len(vals) > 1:
                unit = vals[-2] or None
            data["unit"] = unit


def _channel(bus: int, data: dict[str, object]) -> MbusChannel:
    value = data.get("value")
    captured = data.get("captured_at")
    device_type = data.get("device_type")
    unit = data.get("unit")
    return MbusChannel(
        bus=bus,
        device_type=device_type if isinstance(device_type, int) else None,
        meter_id=str(data.get("meter_id", "")),
        captured_at=captured if isinstance(captured, datetime) else None,
        value=value if isinstance(value, float) else None,
        unit=unit if isinstance(unit, str) else None,
    )
