"""JSON Schemas (OpenAPI 3.1 dialect) of what the emulator sends and takes.

The settings schemas are derived from the device's own field tables
(emulator.device.settings.fields), and the report schema from the report face's layout
table, so the description cannot drift from what the device validates and sends: a new field
is one line in its table and appears here by itself. What has no table (system info, the
live event, the control API's answers) is written out below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from emulator.device.faces.live import LIVE_FIELDS
from emulator.device.faces.report_json import REPORT_LAYOUT
from emulator.device.settings.fields import (
    Bool,
    Choice,
    Field,
    Group,
    HexKey,
    Int,
    Ipv4,
    ListSchema,
    Number,
    Schema,
    Text,
)

Json = dict[str, Any]

STRING: Final[Json] = {"type": "string"}
INTEGER: Final[Json] = {"type": "integer"}
NUMBER: Final[Json] = {"type": "number"}
BOOLEAN: Final[Json] = {"type": "boolean"}


def obj(properties: Mapping[str, Json], *, required: tuple[str, ...] | None = None,
        closed: bool = False) -> Json:
    """An object schema; `required` defaults to every property; `closed` forbids others."""
    out: Json = {"type": "object", "properties": dict(properties),
                 "required": list(properties if required is None else required)}
    if closed:
        out["additionalProperties"] = False
    return out


def array(items: Json) -> Json:
    return {"type": "array", "items": items}


def nullable(schema: Json) -> Json:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


# -- settings: from the field tables ----------------------------------------------------

def field_schema(spec: Field) -> Json:
    """What a request may send for one field (the device checks more: cross-field rules,
    host names, Wi-Fi passphrases; those refusals are 400s)."""
    out: Json
    if isinstance(spec, Group):
        return {"type": "object", "properties": {name: field_schema(inner)
                                                 for name, inner in spec.fields.items()}}
    if isinstance(spec, Bool):
        out = dict(BOOLEAN)
    elif isinstance(spec, Int):
        out = {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum}
    elif isinstance(spec, Number):
        out = {"type": "number"}
        if spec.minimum != float("-inf"):
            out["minimum"] = spec.minimum
        if spec.maximum != float("inf"):
            out["maximum"] = spec.maximum
        if spec.step is not None:
            out["multipleOf"] = spec.step
    elif isinstance(spec, Choice):
        out = {"type": "string", "enum": list(spec.choices)}
    elif isinstance(spec, HexKey):
        out = {"type": "string", "pattern": "^[0-9A-Fa-f]{32}$"}
    elif isinstance(spec, Ipv4):
        out = {"type": "string", "format": "ipv4"}
    elif isinstance(spec, Text):
        out = {"type": "string", "maxLength": spec.max_length}
        if spec.min_length and not spec.allow_empty:
            out["minLength"] = spec.min_length
        if spec.pattern is not None:
            out["pattern"] = f"^(?:{spec.pattern.pattern})$"
    elif isinstance(spec.default, str):
        out = dict(STRING)
    else:
        out = {}
    if spec.nullable:
        out = nullable(out)
    return out


def _public_schema(fields: Mapping[str, Field]) -> Json:
    properties: Json = {}
    for name, spec in fields.items():
        if isinstance(spec, Group):
            properties[name] = _public_schema(spec.fields)
        elif spec.secret:
            if spec.length_key:
                properties[spec.length_key] = {"type": "integer", "minimum": 0}
        else:
            answer = field_schema(spec)
            answer.pop("minLength", None)  # GET shows what is stored, "" included
            answer.pop("pattern", None)
            properties[name] = answer
    return obj(properties, closed=True)


def settings_answer(schema: Schema) -> Json:
    """What GET (and a successful POST/PUT) answers: every public field, nothing else."""
    return _public_schema(schema.fields)


def settings_request(schema: Schema) -> Json:
    """What POST/PUT take: any subset of the fields (POST: the rest back to factory values);
    unknown fields are ignored, so a client may send back what GET gave it."""
    properties = {name: field_schema(spec) for name, spec in schema.fields.items()}
    for alias, name in schema.aliases.items():
        properties[alias] = properties[name]
    return {"type": "object", "properties": properties}


def list_request(schema: ListSchema, item: Json) -> Json:
    out = array(item)
    if schema.max_items is not None:
        out["maxItems"] = schema.max_items
    return out


# -- the report and its faces ----------------------------------------------------------

def _layout_schema(layout: Mapping[str, Any]) -> Json:
    """Only what the meter's data supports is present: nothing is required."""
    return {"type": "object", "additionalProperties": False, "properties": {
        name: NUMBER if isinstance(spec, str) else _layout_schema(spec)
        for name, spec in layout.items()}}


DATE_TIMES: Final[Json] = {
    "date_time": {"type": "string", "description": "local time followed by a literal Z "
                                                   "(a quirk of the device, kept)"},
    "date_time_local": {"type": "string", "description": "local time with its offset"},
    "date_time_utc": {"type": "string", "description": "UTC, ending in Z"},
}


def report_schema() -> Json:
    report = _layout_schema(REPORT_LAYOUT)
    report["properties"].update({
        "id": INTEGER, "interval": NUMBER, "tariff": INTEGER, **DATE_TIMES,
        "conv_factor": NUMBER,
        "volume": array(obj({"bus": INTEGER, "meter_id": STRING, "date_time": STRING,
                             "cumulative": NUMBER}, required=("bus", "meter_id"))),
    })
    report["required"] = ["id", "interval", *DATE_TIMES, "conv_factor"]
    meter = obj(dict.fromkeys(("status", "interface", "protocol", "protocol_version",
                               "logical_name", "id", "model", "vendor", "prefix"), STRING),
                required=("status", "interface"), closed=True)
    system = obj({"id": STRING, **DATE_TIMES, "boot_id": STRING,
                  "time_since_boot": INTEGER}, closed=True)
    return obj({"report": report, "meter": meter, "system": system}, closed=True)


def live_schema() -> Json:
    properties: Json = {name: NUMBER for name, _ in LIVE_FIELDS}
    properties.update({
        "T": INTEGER,
        "Vol": array(obj({"Bus": INTEGER, "M_ID": STRING, "DT": STRING, "Cum": NUMBER})),
        "Date": STRING, "Time": STRING,
        "Uptime": {"type": "number", "description": "hours since boot (a device quirk)"},
    })
    required = tuple(name for name in properties if name not in ("T", "Vol"))
    return obj(properties, required=required, closed=True)


def system_info_schema() -> Json:
    def flags(*names: str) -> Json:
        return obj(dict.fromkeys(names, BOOLEAN))

    device = obj({
        "name": STRING, "id": STRING, "model": STRING, "firmware": STRING, "build": STRING,
        "upgrade_capable": BOOLEAN, "date": STRING, "time": STRING,
        "time_since_boot": INTEGER, "last_reboot": obj({"date": STRING, "time": STRING}),
        "plug": obj(dict.fromkeys(("v_usb", "v_mbus", "v_p1", "v_scap"), NUMBER)),
        "license": obj({"type": STRING, "activation_date": STRING}, required=("type",)),
    })
    clouds = obj({
        "whatwatt": flags("enabled", "connected", "registered"),
        "mystrom": obj({"enabled": BOOLEAN, "status": STRING}),
        "solar_manager": flags("enabled", "connected"), "mqtc": flags("enabled", "connected"),
        "stromkonto": flags("enabled", "connected"),
    })
    meter = obj({
        "status": STRING, "interface": STRING, "id": STRING, "manufacturer": STRING,
        "type": STRING, "model": STRING, "protocol": STRING, "protocol_version": STRING,
        "report_interval": NUMBER, "enc_en": BOOLEAN, "auth_en": BOOLEAN, "tariff": INTEGER,
        "date": STRING, "time": STRING,
    })
    wifi = {"type": "object", "required": ["status", "mode"],
            "properties": {"channel": INTEGER, "rssi": INTEGER, "signal": INTEGER,
                           "wps": BOOLEAN, "status": STRING, "mode": STRING}}
    ethernet = obj(dict.fromkeys(("mac", "status", "ip", "mask", "gateway", "dns"), STRING))
    sd_card = obj({"installed": BOOLEAN, "type": STRING, "size": NUMBER, "speed": NUMBER})
    return obj({"device": device, "clouds": clouds, "services": {"type": "object"},
                "meter": meter, "wifi": wifi, "ethernet": ethernet, "sd_card": sd_card})


SCAN_ENTRY: Final[Json] = obj({
    "ssid": STRING, "bssid": STRING, "channel": INTEGER, "ht": STRING, "rssi": INTEGER,
    "signal": INTEGER, "auth_mode": STRING, "pairwise_cipher": STRING,
    "group_cipher": STRING, "phy": STRING,
    "wps": {"type": "string", "enum": ["true", "false"],
            "description": "a string here, as documented (a boolean in /api/v1/system)"},
    "country": STRING})

VARIABLES: Final[Json] = array({"type": "object", "minProperties": 1, "maxProperties": 1,
                                "additionalProperties": STRING,
                                "description": "one variable: {name: value as text}"})

COSEM_OBJECT: Final[Json] = {"type": "object", "required": ["logical_name", "class"],
                             "properties": {"logical_name": STRING, "class": INTEGER}}

SCALER_ENTRY: Final[Json] = {"type": "object", "properties": {
    "obis": STRING, "scaler": {"type": "integer", "minimum": -6, "maximum": 6}}}

DIRECTORY: Final[Json] = obj({"path": STRING, "files": array(obj({
    "name": STRING, "size": INTEGER, "type": {"type": "string", "enum": ["dir", "file"]}}))})

#: An address: a number, or "0x0001" text in the detailed map with address_format=hex.
ADDRESS: Final[Json] = {"anyOf": [INTEGER, {"type": "string", "pattern": "^0x[0-9A-F]{4}$"}]}
MODBUS_REGISTER: Final[Json] = {"type": "object", "required": ["id", "type"], "properties": {
    "id": STRING, "type": STRING, "scaler": INTEGER, "address": ADDRESS, "size": INTEGER}}
MODBUS_SET: Final[Json] = {"type": "object", "required": ["start_address", "registers"],
                           "properties": {"start_address": ADDRESS, "word_order": STRING,
                                          "end_address": ADDRESS, "size": INTEGER,
                                          "registers": array(MODBUS_REGISTER)}}

ACTION_STATUS: Final[Json] = {"type": "object", "properties": {"id": INTEGER}}
