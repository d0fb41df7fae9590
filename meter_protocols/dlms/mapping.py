"""Pushed COSEM items -> MeterReading: objects as the device shows them, scaled values,
identity, clock and tariff.

- Class: as the push_object_list says; otherwise 8 for a clock (x-x:1.0.0 with a
  date-time), 3 for a number of an electricity register (A = 1) or one that came with a
  scaler_unit, 1 for everything else.
- Values go to `MeterReading.values` (base units) when the register is class 3 and its
  C.D.E is in the OBIS catalogue with a numeric quantity.
- Identity: logical device name 0-0:42.0.0 (its first three letters are the FLAG id
  that names the vendor), meter id 0-0:96.1.0 (Kamstrup: 1-1:0.0.5), model 0-0:96.1.1
  (Aidon, Kaifa: 0-0:96.1.7). A list version id ("KFM_001", "AIDON_V0001") names the vendor
  when the logical device name is not sent.
- Meter time: the clock object, else the notification's date-time.
- Tariff: 0-0:96.14.0, a number or a text with the tariff's digit ("RATE1" -> 1).
- M-Bus sub-meters: an extended or plain register x-b:24.2.x (gas, water, heat on M-Bus
  channel b) becomes a sub-meter reading (the report's `volume`), its capture time when
  the push carries it, and stays in the objects; 0-b:96.1.0 is that sub-meter's id (not
  the meter's).
- Vendor: when nothing in the push names it, the system title's first three letters (the
  FLAG id the ciphering meter puts there) do.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from types import MappingProxyType
from typing import Any, Final

from meter_protocols.dlms import cosem_time, units
from meter_protocols.dlms.axdr import NUMERIC_TAGS, Data, Tag
from meter_protocols.dlms.cosem import PushContent, PushedItem
from meter_protocols.dlms.facts import BY_ID as _FACTS
from meter_protocols.dlms.facts import ObisFacts, facts
from meter_protocols.dlms.scalers import CURRENT_CODES, ScalerResolver
from meter_protocols.readings import (
    CosemObject,
    MbusChannel,
    MeterIdentity,
    MeterProtocol,
    MeterReading,
    ScalerSource,
)
from meter_protocols.vendors import vendor_for

_DIGITS: Final = re.compile(r"[0-9]+")
_LONG64: Final = frozenset((Tag.INT64, Tag.UINT64))
_DATE_TIME: Final = int(Tag.DATE_TIME)
#: The tags a date-time can come as.
_DATE_TAGS: Final = frozenset((Tag.DATE_TIME, Tag.OCTET_STRING))
_NUMBERS: Final = (int, float)
_PRINTABLE: Final = bytes(range(0x20, 0x7F))
_METER: Final = ScalerSource.METER
_OCTETS: Final = int(Tag.OCTET_STRING)
_POWERS: Final = frozenset(("1.7.0", "2.7.0"))
_NO_EXTRA: Final[Mapping[str, Any]] = MappingProxyType({})
#: A tariff has a digit or two; more digits than this are not a tariff (nor an int()).
_TARIFF_DIGITS: Final = 9
#: The class-4 capture time key, spelled as /api/v1/report/objects spells it.
CAPTURE_TIME_KEY = "captired_time"


def _is_date_time(item: PushedItem, known: ObisFacts) -> bool:
    data = item.data
    if data.tag == _DATE_TIME:
        return True
    return (data.tag == _OCTETS and isinstance(data.value, bytes)
            and len(data.value) == 12 and (item.class_id == 8 or known.clock))


#: CosemObject's fields in order, as its generated constructor takes them.
_FIELDS: Final = ("logical_name", "class_id", "tag", "size", "value", "unit", "scaler",
                  "scaler_source", "extra")
if tuple(f.name for f in dataclasses.fields(CosemObject)) != _FIELDS \
        or hasattr(CosemObject, "__post_init__"):  # pragma: no cover - a change to readings
    raise RuntimeError("CosemObject changed: _cosem_object must follow it")
_SET_NAME, _SET_CLASS, _SET_TAG, _SET_SIZE, _SET_VALUE, _SET_UNIT, _SET_SCALER, \
    _SET_SOURCE, _SET_EXTRA = (getattr(CosemObject, name).__set__ for name in _FIELDS)
_new_object: Final = object.__new__


def _cosem_object(name: str, class_id: int, data: Data,
                  scaled: tuple[int | float | str | None, int | None, int | None,
                                ScalerSource | None],
                  extra: Mapping[str, Any]) -> CosemObject:
    """CosemObject(name, class_id, data.tag, data.size, *scaled, extra): an object of
    the frame (scaled: value, unit, scaler, scaler source), its slots written directly.

    The frozen dataclass's constructor writes each of its nine fields through
    object.__setattr__ and costs more than the rest of a register's decoding; it does
    nothing else (no __post_init__, checked above), so the object built here is the same
    (tests/meter_protocols/dlms/test_fast_paths.py compares them)."""
    obj: CosemObject = _new_object(CosemObject)
    value, unit, scaler, source = scaled
    _SET_NAME(obj, name)
    _SET_CLASS(obj, class_id)
    _SET_TAG(obj, data.tag)
    _SET_SIZE(obj, data.size)
    _SET_VALUE(obj, value)
    _SET_UNIT(obj, unit)
    _SET_SCALER(obj, scaler)
    _SET_SOURCE(obj, source)
    _SET_EXTRA(obj, extra)
    return obj


def text_of(data: Data) -> str:
    """A string value as text: printable ASCII decoded (trailing NULs dropped), else hex."""
    raw = data.value
    if isinstance(raw, str):
        return raw.rstrip("\x00")
    if isinstance(raw, bytes):
        stripped = raw.rstrip(b"\x00")
        if stripped and not stripped.translate(None, _PRINTABLE):  # all printable ASCII
            return stripped.decode("ascii")
        return raw.hex().upper()
    if isinstance(raw, bool):
        return str(int(raw))
    if isinstance(raw, int | float):
        return str(raw)
    return ""


def _scaled(raw: float, scaler: int) -> float:
    factor: int = 10 ** abs(scaler)
    return float(raw) * factor if scaler >= 0 else float(raw) / factor


class ReadingBuilder:
    """Turns push content into a MeterReading; holds the zone and the scaler resolver."""

    def __init__(self, resolver: ScalerResolver, zone: tzinfo) -> None:
        self.resolver = resolver
        self.zone = zone

    def build(self, content: PushContent, notification_time: bytes = b"",
              system_title: bytes = b"") -> MeterReading:
        values: dict[str, float] = {}
        channels: list[MbusChannel] = []
        channel_ids: dict[int, str] = {}
        texts: dict[str, str] = {}
        objects: list[CosemObject] = []
        clock: datetime | None = None
        tariff: int | None = None
        names: dict[str, str] = {}
        power_tags: set[int | None] = set()
        resolve = self.resolver.resolve
        meter_wins = self.resolver.meter_wins
        for item in content.items:
            obis, data, class_id, _, meter_scaler, meter_unit, layout_scaler, extra = item
            cached = _FACTS.get(id(obis))  # facts(obis), its lookup inlined
            known = cached[1] if cached is not None and cached[0] is obis else facts(obis)
            raw = data.value
            if (class_id is None and not extra and data.tag in NUMERIC_TAGS
                    and not known.sub_meter and isinstance(raw, _NUMBERS)
                    and not isinstance(raw, bool)
                    and (obis.a == 1 or meter_scaler is not None or layout_scaler is not None)):
                # A register whose class the frame does not say (class 3 by the rules
                # above), most of a push: _object's register path, inlined, and nothing
                # else of this loop applies to it.
                short = known.short
                if meter_scaler is not None and meter_wins:  # resolve's answer, known
                    scaler, source = meter_scaler, _METER
                else:
                    scaler, source = resolve(short, raw, meter=meter_scaler,
                                             layout=layout_scaler)
                scaled = float(raw) * 10 ** scaler if scaler >= 0 \
                    else float(raw) / 10 ** -scaler  # _scaled, inlined
                if known.counted and short not in values and math.isfinite(scaled):
                    values[short] = scaled
                unit = meter_unit if meter_unit is not None else known.unit
                objects.append(_cosem_object(known.reduced, 3, data,
                                             (_finite(raw), unit, scaler, source), _NO_EXTRA))
                if short in _POWERS:
                    power_tags.add(data.tag)
                continue
            obj, moment = self._object(item, known, values)
            objects.append(obj)
            short = known.short
            if short in _POWERS:
                power_tags.add(obj.tag)
            channel = self._channel(item, obj) if known.sub_meter else None
            if channel is not None:
                channels.append(channel)
                continue
            if obj.class_id == 8 and moment is not None and clock is None:
                clock = moment
                continue
            if obj.class_id == 3 or item.data.is_container:
                continue
            text = text_of(item.data)
            if item.obis.a == 0 and item.obis.b > 0 and short == "96.1.0":
                # a sub-meter's id, not ours; NULs only: no sub-meter on that channel
                raw = item.data.value
                empty = isinstance(raw, bytes) and not raw.strip(b"\x00")
                channel_ids.setdefault(item.obis.b, "" if empty else text)
                continue
            texts.setdefault(short, text)
            key = f"{item.obis.a}:{short}"
            names.setdefault(key, text)
            if short == "96.14.0" and tariff is None:
                tariff = _tariff(item.data, text)
        objects = self._check_currents(values, objects, power_tags)
        if clock is None and len(notification_time) == 12:
            clock = cosem_time.parse(notification_time, self.zone)
        return MeterReading(
            protocol=MeterProtocol.DLMS,
            values=MappingProxyType(values),
            identity=_identity(names, content, system_title),
            meter_time=clock,
            tariff=tariff,
            texts=MappingProxyType(texts),
            objects=tuple(objects),
            mbus=tuple(dataclasses.replace(ch, meter_id=channel_ids.get(ch.bus, ""))
                       for ch in channels
                       if ch.value or channel_ids.get(ch.bus) or ch.bus not in channel_ids),
            layout=content.layout,
        )

    def _check_currents(self, values: dict[str, float], objects: list[CosemObject],
                        power_tags: set[int | None]) -> list[CosemObject]:
        """Currents scaled by the default table that disagree with the frame's power and
        voltages by decades get the scaler that makes them agree (scalers.py).

        Only the power of a 64-bit register list (Landis+Gyr's long64 pushes, in W under
        the default table as the E450 column says) is trusted for that; a 32-bit E570
        sends 0.1 W, and under `default` shows wrong values as the device does."""
        # power_tags: the A-XDR tags of the objects x-x:1.7.0 and x-x:2.7.0
        if not power_tags or not power_tags <= _LONG64:
            return objects
        automatic = {o.logical_name.partition(":")[2]: i for i, o in enumerate(objects)
                     if o.class_id == 3 and o.scaler_source is ScalerSource.DEFAULT
                     and o.logical_name.startswith("1-")
                     and o.logical_name.endswith(CURRENT_CODES)}
        shift = self.resolver.current_shift(values, automatic)
        if not shift:
            return objects
        out = list(objects)
        for short, index in automatic.items():
            obj = out[index]
            if short not in values or obj.scaler is None or \
                    not isinstance(obj.value, int | float):
                continue
            scaler = obj.scaler + shift
            values[short] = _scaled(obj.value, scaler)
            out[index] = dataclasses.replace(obj, scaler=scaler,
                                             scaler_source=ScalerSource.PLAUSIBILITY)
        return out

    def _channel(self, item: PushedItem, obj: CosemObject) -> MbusChannel | None:
        """A sub-meter's register (x-b:24.2.x) as the report's M-Bus channel b."""
        obis = item.obis
        raw = item.data.value
        if (obis.c, obis.d) != (24, 2) or obis.b == 0 or isinstance(raw, bool) \
                or not isinstance(raw, int | float):
            return None
        scaler = obj.scaler if obj.scaler is not None else 0
        captured = None
        stamp = item.extra.get("capture_time")
        if isinstance(stamp, Data) and isinstance(stamp.value, bytes):
            captured = cosem_time.parse(stamp.value, self.zone)
        return MbusChannel(bus=obis.b, captured_at=captured, value=_scaled(raw, scaler),
                           unit=units.symbol(item.unit) or None)

    def _object(self, item: PushedItem, known: ObisFacts, values: dict[str, float]
                ) -> tuple[CosemObject, datetime | None]:
        data = item.data
        raw = data.value
        date_time = data.tag in _DATE_TAGS and _is_date_time(item, known)
        class_id = item.class_id
        if class_id is None:  # the class rules of the module's docstring
            class_id = 8 if date_time else 3 if data.is_number and (
                item.obis.a == 1 or item.scaler is not None
                or item.layout_scaler is not None) else 1
        name = known.reduced
        if class_id == 40:
            listing = item.extra.get("push_object_list", ())
            return CosemObject(name, 40, size=len(listing),
                               extra=MappingProxyType({"push_object_list": list(listing)})
                               ), None
        if date_time and isinstance(raw, bytes):
            stamp = cosem_time.CosemDateTime.from_bytes(raw)  # read once (cosem_time.parse)
            moment = stamp.to_datetime(self.zone) if stamp is not None else None
            shown = cosem_time.iso_local(moment, self.zone) if moment else raw.hex().upper()
            extra: dict[str, Any] = {}
            if class_id == 8 and stamp is not None:
                extra = {"time_zone": stamp.deviation, "status": stamp.status}
            return _cosem_object(name, class_id, data, (shown, None, None, None),
                                 MappingProxyType(extra)), moment
        numeric = isinstance(raw, _NUMBERS) and not isinstance(raw, bool)
        if class_id == 1 and numeric and known.sub_meter:
            class_id = 4 if item.extra.get("capture_time") is not None else 3
        if numeric and class_id in (3, 4):
            assert isinstance(raw, _NUMBERS)  # for the type checker: numeric says so
            short = known.short
            scaler, source = self.resolver.resolve(short, raw, meter=item.scaler,
                                                   layout=item.layout_scaler)
            unit = item.unit if item.unit is not None else known.unit
            scaled = _scaled(raw, scaler)
            if known.counted and short not in values and math.isfinite(scaled):
                values[short] = scaled
            return _cosem_object(name, class_id, data, (_finite(raw), unit, scaler, source),
                                 self._extra(item) if item.extra else _NO_EXTRA), None
        return _cosem_object(name, class_id, data, (_shown(data), None, None, None),
                             self._extra(item) if item.extra else _NO_EXTRA), None

    def _extra(self, item: PushedItem) -> Mapping[str, Any]:
        if not item.extra:
            return _NO_EXTRA
        out: dict[str, Any] = {}
        for key, value in item.extra.items():
            if not isinstance(value, Data):
                out[key] = value
            elif key == "capture_time" and isinstance(value.value, bytes):
                moment = cosem_time.parse(value.value, self.zone)
                out[CAPTURE_TIME_KEY] = cosem_time.iso_local(moment, self.zone) if moment \
                    else None
            elif key == "status":
                out[key] = {"tag": value.tag, "size": value.size, "value": _shown(value)}
            else:
                out[key] = _shown(value)
        return MappingProxyType(out)


def _finite(raw: int | float) -> int | float | None:
    """A number as JSON can carry it: a float32/64 inf or NaN from the meter is null."""
    return raw if isinstance(raw, int) or math.isfinite(raw) else None


def _shown(data: Data) -> int | float | str | None:
    """A raw value as /api/v1/report/objects shows it."""
    raw = data.value
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int | float):
        return _finite(raw)
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes):
        return raw.hex().upper()
    return None


def _tariff(data: Data, text: str) -> int | None:
    raw = data.value
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    match = _DIGITS.search(text)
    if match is None or len(match.group()) > _TARIFF_DIGITS:
        return None
    return int(match.group())


def _identity(names: dict[str, str], content: PushContent,
              system_title: bytes = b"") -> MeterIdentity:
    def first(*keys: str) -> str:
        for key in keys:
            if names.get(key):
                return names[key]
        return ""

    logical_name = first("0:42.0.0")
    meter_id = first("0:96.1.0", "1:0.0.5", "1:96.1.0")
    model = first("0:96.1.1", "1:96.1.1", "0:96.1.7")
    prefix = logical_name[:3].upper() if logical_name[:3].isalpha() else ""
    vendor = vendor_for(prefix) if prefix else ""
    if not prefix and content.prefix:
        prefix, vendor = content.prefix, content.vendor
    elif not vendor and content.vendor:
        vendor = content.vendor
    title = system_title[:3]
    if not prefix and len(title) == 3 and title.isalpha() and title.isupper():
        prefix = title.decode("ascii")
        vendor = vendor_for(prefix)
    return MeterIdentity(meter_id=meter_id, logical_name=logical_name, model=model,
                         vendor=vendor, prefix=prefix)


__all__ = ["CAPTURE_TIME_KEY", "ReadingBuilder", "text_of"]
