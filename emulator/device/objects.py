"""The DLMS views of the last frame: /api/v1/report/objects and the scalers in use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meter_protocols.dlms.scalers import scalers_current
from meter_protocols.readings import CosemObject, MeterReading

Json = dict[str, Any]


def _plain(value: Any) -> Any:
    """A decoded value as plain JSON data: read-only mappings (a push object list's
    entries) become dicts, tuples lists, bytes hex text."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return value


def _object(obj: CosemObject) -> Json:
    return {key: _plain(value) for key, value in _fields(obj).items()}


def _fields(obj: CosemObject) -> Json:
    out: Json = {"logical_name": obj.logical_name, "class": obj.class_id}
    if obj.class_id == 40:
        pushed = list(obj.extra.get("push_object_list", []))
        out["size"] = obj.size if obj.size is not None else len(pushed)
        out["push_object_list"] = pushed
        return out
    if obj.class_id == 8:
        out["value"] = obj.value
        for key in ("time_zone", "status"):
            if key in obj.extra:
                out[key] = obj.extra[key]
        return out
    if obj.tag is not None:
        out["tag"] = obj.tag
    if obj.size is not None:
        out["size"] = obj.size
    out["value"] = obj.value
    if obj.class_id in (3, 4):
        if obj.unit is not None:
            out["unit"] = obj.unit
        if obj.scaler is not None:
            out["scaler"] = obj.scaler
    if obj.class_id == 4:
        for key in ("status", "captired_time"):
            if key in obj.extra:
                out[key] = obj.extra[key]
    return out


def report_objects(reading: MeterReading | None) -> Json:
    """The COSEM objects of the last frame; an empty list for meters that are not DLMS."""
    return {"objects": [_object(o) for o in reading.objects] if reading else []}


def current_scalers(reading: MeterReading | None) -> list[Json]:
    """The scalers applied to the class-3 values the device recognised (manual 6.4)."""
    return scalers_current(reading)
