"""The device's API (/api/v1/..., /load, /sdcard, the web pages) as the emulator serves it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.api.openapi_common import (
    NO_CONTENT,
    error_ref,
    json_body,
    ok,
    operation,
    query,
    text,
)
from emulator.api.openapi_schemas import (
    ACTION_STATUS,
    COSEM_OBJECT,
    DIRECTORY,
    MODBUS_SET,
    SCALER_ENTRY,
    SCAN_ENTRY,
    VARIABLES,
    array,
    list_request,
    obj,
    ref,
    settings_answer,
    settings_request,
)
from emulator.device.settings import sections
from emulator.device.settings.fields import ListSchema, Schema, SectionSchema

Json = dict[str, Any]

WRITE = (403,)  # a bodiless write: refused when it comes from another site
LICENSED = (404,)  # `License required` without Plus
RESETS = "factory reset of the device under test (settings, identity kept, SD card)"


def _settings(path: str, tag: str, name: str, schema: Schema, *, put: bool = True,
              delete: str | None = None, not_fuzzed: str | None = None,
              answer: Json | None = None) -> Json:
    """GET/POST/PUT (/DELETE) of one settings section: the one code path of them all."""
    shown = answer or settings_answer(schema)
    request = settings_request(schema)
    item: Json = {"get": operation(f"get{name}", tag, f"Read the {tag.lower()} settings",
                                   {200: ok(shown)})}
    item["post"] = operation(
        f"replace{name}", tag, "Replace the settings (absent fields back to factory values)",
        {200: ok(shown, "The settings now in effect")}, body=json_body(request),
        not_fuzzed=not_fuzzed)
    if put:
        item["put"] = operation(
            f"update{name}", tag, "Change only the fields sent",
            {200: ok(shown, "The settings now in effect")}, body=json_body(request),
            not_fuzzed=not_fuzzed)
    if delete:
        item["delete"] = operation(f"delete{name}", tag, delete, {204: NO_CONTENT},
                                   errors=WRITE)
    return item


def _mqtt_answer(schema: Schema) -> Json:
    """The certificate groups appear in GET once something is set in them."""
    shown = settings_answer(schema)
    shown["required"] = [k for k in shown["required"] if k not in ("broker", "client")]
    return shown


def device_paths(schemas: Mapping[str, SectionSchema]) -> Json:
    system = schemas[sections.SYSTEM]
    meter, wifi, eth, mqtt = (schemas[sections.METER], schemas[sections.WIFI],
                              schemas[sections.ETH], schemas[sections.MQTT])
    assert isinstance(system, Schema)
    assert isinstance(meter, Schema)
    assert isinstance(wifi, Schema)
    assert isinstance(eth, Schema)
    assert isinstance(mqtt, Schema)
    scalers = schemas[sections.SCALERS]
    assert isinstance(scalers, ListSchema)
    scalers_list = list_request(scalers, SCALER_ENTRY)
    modbus_sets = array(MODBUS_SET)
    return {
        "/api/v1/system": {"get": operation(
            "getSystemInfo", "General", "Device, clouds, meter, Wi-Fi, Ethernet, SD card",
            {200: ok(ref("SystemInfo"))})},
        "/api/v1/report": {"get": operation(
            "getReport", "Measurements", "The latest report (licensed)",
            {200: ok(ref("ReportEnvelope"))}, errors=LICENSED,
            description="Only what the meter's data supports is present. Before the "
                        "first frame `report` holds the envelope fields only.")},
        "/api/v1/report/objects": {"get": operation(
            "getReportObjects", "Measurements", "The COSEM objects of the last DLMS frame",
            {200: ok(obj({"objects": array(COSEM_OBJECT)}))}, errors=LICENSED)},
        "/api/v1/live": {"get": operation(
            "streamLive", "Streaming", "Server-sent events `live`, one per report",
            {200: {"description": "`event: live` / `data: <LiveEvent JSON>`, no heartbeat, "
                                  "no retry field; one client at a time (a new one ends "
                                  "the previous stream)",
                   "content": {"text/event-stream": {
                       "schema": {"type": "string"},
                       "x-event-data": ref("LiveEvent")}}}},
            not_fuzzed="an endless stream")},
        "/api/v1/variables": {"get": operation(
            "getVariables", "Measurements", "The template variables (licensed)",
            {200: ok(VARIABLES)}, errors=LICENSED)},
        "/api/v1/settings": _settings(
            "/api/v1/settings", "Settings", "Settings", system,
            not_fuzzed="sets the device's password (locks the API) and the services"),
        "/api/v1/meter/settings": _settings("/api/v1/meter/settings", "Meter",
                                            "MeterSettings", meter),
        "/api/v1/meter/scalers/current": {"get": operation(
            "getCurrentScalers", "Meter", "The scalers applied to the last frame",
            {200: ok(array(SCALER_ENTRY))})},
        "/api/v1/meter/scalers/custom": {
            "get": operation("getCustomScalers", "Meter", "The custom scalers",
                             {200: ok(scalers_list)}),
            "post": operation("replaceCustomScalers", "Meter", "Replace the custom scalers",
                              {200: ok(scalers_list)}, body=json_body(scalers_list)),
        },
        "/api/v1/wifi/sta/settings": _settings(
            "/api/v1/wifi/sta/settings", "Wi-Fi", "WifiSettings", wifi,
            delete="Forget the Wi-Fi settings (back to factory values)"),
        "/api/v1/wifi/scan": {"get": operation(
            "scanWifi", "Wi-Fi", "Networks in reach (simulated)", {200: ok(array(SCAN_ENTRY))})},
        "/api/v1/wifi/wps": {"post": operation(
            "startWps", "Wi-Fi", "Open a WPS pairing window", {204: NO_CONTENT},
            errors=WRITE)},
        "/api/v1/eth/settings": _settings("/api/v1/eth/settings", "Ethernet", "EthSettings",
                                          eth),
        "/api/v1/mqtt/settings": _settings(
            "/api/v1/mqtt/settings", "MQTT", "MqttSettings", mqtt, answer=_mqtt_answer(mqtt),
            not_fuzzed="makes the device connect to the broker named in the body "
                       "(traffic to any host)"),
        "/api/v1/template/test": {"post": operation(
            "testTemplate", "MQTT", "Render a template against the current report (licensed)",
            {200: text("The rendered text; unknown ${variables} stay verbatim")},
            errors=LICENSED, body={"required": True, "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "template": {"type": "string", "maxLength": 1023}}}},
                "text/plain": {"schema": {"type": "string", "maxLength": 1023}}}})},
        "/api/v1/modbus": {
            "get": operation("getModbusMap", "Modbus", "The Modbus register map",
                             {200: ok(modbus_sets)}, errors=(400, 404), params=[query(
                                 "address_format", {"type": "string", "enum": ["dec", "hex"]},
                                 "the detailed map, addresses in decimal or hex")]),
            "post": operation("replaceModbusMap", "Modbus", "Replace the register map",
                              {200: ok(modbus_sets)}, errors=(404,),
                              body=json_body(modbus_sets)),
            "delete": operation("resetModbusMap", "Modbus", "Back to the default map",
                                {204: NO_CONTENT}, errors=(*WRITE, 404)),
        },
        "/api/v1/actions": {
            "get": operation("getActions", "Actions", "The actions definition",
                             {200: ok({"type": "object"})}, errors=LICENSED,
                             description="404 while none is defined."),
            "post": operation("defineActions", "Actions", "Replace the actions definition",
                              {200: ok({"type": "object"})}, errors=LICENSED,
                              body=json_body({"type": "object"}),
                              not_fuzzed="actions send HTTP requests to any host"),
            "delete": operation("deleteActions", "Actions", "Delete the definition",
                                {204: NO_CONTENT}, errors=(*WRITE, *LICENSED)),
        },
        "/api/v1/actions/call": {"post": operation(
            "callAction", "Actions", "Run an action",
            {202: {"description": "Queued", "headers": {"Location": {
                "description": "/api/v1/actions/status?id=N[,M]",
                "schema": {"type": "string"}}}}},
            errors=(*WRITE, 400, 404, 409, 429, 503),
            params=[query("id", {"type": "string"}, "the action's id", required=True)],
            not_fuzzed="actions send HTTP requests to any host")},
        "/api/v1/actions/status": {"get": operation(
            "getActionStatus", "Actions", "Status of action calls",
            {200: ok(array(ACTION_STATUS))}, errors=(400, *LICENSED, 503),
            params=[query("id", {"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"},
                          "call ids, comma separated", required=True)])},
        "/api/v1/reboot": {"post": operation(
            "reboot", "Maintenance", "Reboot (answered first)", {204: NO_CONTENT},
            errors=WRITE, not_fuzzed="reboots the device under test")},
        "/api/v1/restore": {"post": operation(
            "factoryReset", "Maintenance", "Factory reset, then reboot", {204: NO_CONTENT},
            errors=WRITE, not_fuzzed=RESETS)},
        "/load": {
            "get": operation("getFirmwareState", "Maintenance", "The update slot's state",
                             {200: text("`key: value` lines")}),
            "post": operation(
                "uploadFirmware", "Maintenance", "Upload a firmware image (multipart)",
                {200: text("Verified; the device reboots into it"),
                 400: text("Not an image of the emulator's format, or a malformed body"),
                 408: text("The upload stalled"), 413: text("Larger than the update slot"),
                 415: text("Not multipart/form-data"), 500: text("The slot failed"),
                 503: text("Busy: another update or a reboot")},
                body={"required": True, "content": {"multipart/form-data": {"schema": obj(
                    {"file": {"type": "string", "contentMediaType":
                              "application/octet-stream"}})}}},
                not_fuzzed="replaces the firmware and reboots"),
        },
        **sdcard_paths(),
        "/": {"get": operation("webUi", "Web UI", "The web UI",
                               {200: text("The page", "text/html")})},
        "/sd.html": {"get": operation("sdPage", "Web UI", "The SD card page",
                                      {200: text("The page", "text/html")})},
        "/static/{filename}": {"get": operation(
            "webUiFile", "Web UI", "The web UI's files",
            {200: {"description": "The file", "content": {"*/*": {}}},
             404: {"description": "No such file: aiohttp's own empty 404 (not the device's "
                                  "page; docs/openapi.md)",
                   "content": {"application/octet-stream": {}, "text/html": {}}}},
            errors=(403,), params=[{"name": "filename", "in": "path", "required": True,
                                        "schema": {"type": "string"}}])},
    }


def sdcard_paths() -> Json:
    path = {"name": "path", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "a path inside the card; may contain `/` (a trailing `/` names a "
                           "directory)"}
    listing_or_file = {"description": "A directory's listing (JSON) or a file's bytes, "
                                      "with a type from its extension (text/csv for .CSV)",
                       "content": {"application/json": {"schema": DIRECTORY},
                                   "text/csv": {}, "text/plain": {},
                                   "application/octet-stream": {}, "*/*": {}}}
    gone = (400, 404, 503)
    return {
        "/sdcard": {"get": operation("listSdRoot", "SD Card", "The card's root",
                                     {200: ok(DIRECTORY)}, errors=gone),
                    "delete": operation("deleteSdRoot", "SD Card", "Refused: the root",
                                        {400: error_ref(400)}, errors=(*WRITE, *gone))},
        "/sdcard/{path}": {
            "get": operation("getSdEntry", "SD Card", "List a directory or read a file",
                             {200: listing_or_file}, errors=gone, params=[path]),
            "delete": operation("deleteSdEntry", "SD Card", "Delete a file or a directory",
                                {204: NO_CONTENT}, errors=(*WRITE, *gone), params=[path],
                                not_fuzzed="deletes the logged data on the card"),
        },
    }
