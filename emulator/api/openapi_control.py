"""The emulator's own control API (/emulator/v1/...), as the control contract agreed
between the helpers describes it. No real device has these routes. Every write is wrapped by
emulator.api.control_access.steering (loopback-only by default, or X-Emulator-Token)."""

from __future__ import annotations

from typing import Any, Final

from emulator.api.openapi_common import NO_CONTENT, json_body, ok, operation, query
from emulator.api.openapi_schemas import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    array,
    nullable,
    obj,
    ref,
)

Json = dict[str, Any]
TAG: Final = "Emulator control"

DURATION: Final[Json] = {"type": "number", "exclusiveMinimum": 0,
                         "description": "seconds of device time after which the change "
                                      "reverts by itself"}
HEX32: Final[Json] = {"type": "string", "pattern": "^[0-9A-Fa-f]{32}$"}
ISO_TIME: Final[Json] = {"type": "string", "description": "ISO 8601 with a zone"}
SERVICES: Final[Json] = {"type": "object", "description": "service name -> its status",
                         "additionalProperties": {"type": "object"}}


def control_schemas() -> Json:
    virtual_meter = obj({
        "profile": STRING, "silent": BOOLEAN, "corrupt_frames": INTEGER,
        "drop_rate": NUMBER, "flip_rate": NUMBER, "meter_line": STRING,
        "values": {"type": "object", "additionalProperties": nullable(NUMBER)}},
        required=("profile", "silent", "values"))
    meter_state = obj({"link": {"type": "object", "description": "the link's diagnostics: "
                                "status, message, line, detection, counters"},
                       "virtual_meter": {"anyOf": [ref("VirtualMeter"), {"type": "null"}]}})
    clock = obj({"time": ISO_TIME, "speed": NUMBER,
                 "mode": {"type": "string", "enum": ["real", "scaled", "manual"]}},
                required=("time", "speed"))
    fault = obj({
        "id": STRING, "route": STRING, "method": nullable(STRING),
        "latency_ms": nullable(NUMBER), "status": nullable(INTEGER), "drop": BOOLEAN,
        "sse_stop_after": nullable(INTEGER), "duration_s": nullable(NUMBER),
        "expires": nullable(ISO_TIME)}, required=("id", "route"))
    step = obj({"at_s": NUMBER, "do": STRING})
    scenario = obj({"name": STRING, "started": ISO_TIME, "elapsed_s": NUMBER,
                    "done": INTEGER, "total": INTEGER,
                    "next": {"anyOf": [step, {"type": "null"}]}, "finished": BOOLEAN})
    state = obj({
        "device": obj({"id": STRING, "boot_id": STRING, "uptime_s": NUMBER,
                       "license": STRING, "protection": BOOLEAN}),
        "meter": ref("MeterControlState"), "clock": ref("Clock"),
        "faults": array(ref("HttpFault")),
        "scenario": {"anyOf": [ref("ScenarioState"), {"type": "null"}]},
        "services": {"type": "object"}})
    return {"VirtualMeter": virtual_meter, "MeterControlState": meter_state,
            "Clock": clock, "HttpFault": fault, "ScenarioState": scenario,
            "EmulatorState": state,
            "ControlError": obj({"error": STRING})}


def _control_error(status: int, why: str) -> Json:
    """The control API's refusals: JSON {"error": ...} on the newer control routes, the
    device's text/html page on the older ones (both say why)."""
    return {"description": why, "content": {
        "application/json": {"schema": ref("ControlError")},
        "text/html": {"schema": {"type": "string"}}}}


BAD: Final = {400: _control_error(400, "Refused, nothing changed; the body says why")}
NOTHING: Final = {404: _control_error(404, "Nothing to steer (no virtual meter, no such "
                                           "fault, no scenario)")}
STEER: Final = (403,)


def _steer(op_id: str, summary: str, answers: dict[int, Json], body: Json | None, *,
           not_fuzzed: str | None = None, errors: tuple[int, ...] = ()) -> Json:
    return operation(op_id, TAG, summary, {**BAD, **answers}, body=body,
                     errors=(*STEER, *errors), not_fuzzed=not_fuzzed)


def control_paths() -> Json:
    meter_request = {"type": "object", "additionalProperties": False, "properties": {
        "silent": BOOLEAN, "corrupt_frames": {"type": "integer", "minimum": 0},
        "drop_rate": {"type": "number", "minimum": 0, "maximum": 1},
        "flip_rate": {"type": "number", "minimum": 0, "maximum": 1},
        "noise_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
        "meter_line": {"type": "string", "examples": ["2400 8E1"]},
        "values": {"type": "object", "additionalProperties": nullable(NUMBER),
                   "description": "OBIS C.D.E or name -> value in base units; null "
                                  "releases it"},
        "key": obj({"encryption_key": HEX32, "authentication_key": HEX32},
                   required=("encryption_key",)),
        "duration_s": DURATION}}
    fault_request = obj({
        "route": {"type": "string", "description": "fnmatch glob, e.g. /api/v1/*"},
        "method": nullable(STRING), "latency_ms": nullable({"type": "number", "minimum": 0}),
        "status": nullable({"type": "integer", "minimum": 100, "maximum": 599}),
        "drop": BOOLEAN, "sse_stop_after": nullable({"type": "integer", "minimum": 0}),
        "duration_s": nullable(DURATION)}, required=("route",))
    scenario_request = obj({"name": STRING, "seed": INTEGER, "steps": array(
        {"type": "object", "required": ["at_s", "do"],
         "properties": {"at_s": {"type": "number", "minimum": 0}, "do": STRING}})},
        required=("name", "steps"))
    return {
        "/emulator/v1/meter": {
            "get": operation("getMeterControl", TAG, "The meter link's diagnostics and the "
                             "virtual meter's state", {200: ok(ref("MeterControlState"))}),
            "post": _steer("steerMeter", "Fault or force the virtual meter",
                           {200: ok(ref("VirtualMeter")), **NOTHING},
                           json_body(meter_request)),
        },
        "/emulator/v1/clock": {
            "get": operation("getClock", TAG, "The device's clock", {200: ok(ref("Clock"))}),
            "post": _steer("setClock", "Set the clock (as NTP would), or advance a manual "
                           "one (`advance_s`; the frames due are delivered first)",
                           {200: ok(ref("Clock"))}, json_body(
                               {"type": "object", "properties": {
                                   "time": ISO_TIME,
                                   "advance_s": {"type": "number", "exclusiveMinimum": 0}}})),
        },
        "/emulator/v1/state": {"get": operation(
            "getEmulatorState", TAG, "Everything a test may want to read back",
            {200: ok(ref("EmulatorState"))})},
        "/emulator/v1/faults": {
            "get": operation("listFaults", TAG, "The HTTP faults in force",
                             {200: ok(array(ref("HttpFault")))}),
            "post": _steer("addFault", "Add an HTTP fault (never applies to /emulator/v1/*)",
                           {201: ok(ref("HttpFault"), "Added")}, json_body(fault_request),
                           not_fuzzed="slows, fails or drops the fuzzer's own requests"),
            "delete": _steer("clearFaults", "Remove every HTTP fault", {204: NO_CONTENT},
                             None),
        },
        "/emulator/v1/faults/{id}": {"delete": _steer(
            "removeFault", "Remove one HTTP fault", {204: NO_CONTENT, **NOTHING}, None)
            | {"parameters": [{"name": "id", "in": "path", "required": True,
                               "schema": STRING}]}},
        "/emulator/v1/device": {"post": _steer(
            "deviceEvent", "Reboot, cut the power or brown out the device",
            {202: ok(obj({"event": STRING, "accepted": BOOLEAN}), "Accepted")},
            json_body(obj({"event": {"type": "string",
                                     "enum": ["reboot", "power_cut", "brownout"]},
                           "duration_s": DURATION}, required=("event",))),
            not_fuzzed="reboots or cuts the power of the device under test")},
        "/emulator/v1/license": {
            "get": operation("getLicense", TAG, "The licence",
                             {200: ok(obj({"license": STRING}))}),
            "post": _steer("setLicense", "Change the licence (FREE hides the licensed "
                           "endpoints: 404 License required)",
                           {200: ok(obj({"license": STRING}))},
                           json_body(obj({"license": STRING, "duration_s": DURATION},
                                         required=("license",)))),
        },
        "/emulator/v1/services": {
            "get": operation("getServices", TAG, "The services' states (the status board)",
                             {200: ok(SERVICES)}),
            "post": _steer("setService", "Stop or start one service (a broker outage, an "
                           "SD card pulled); `duration_s` starts it again",
                           {200: ok(SERVICES)},
                           json_body(obj({"name": STRING, "running": BOOLEAN,
                                          "duration_s": DURATION}, required=("name",
                                                                             "running"))),
                           not_fuzzed="stops the services other operations exercise"),
        },
        "/emulator/v1/protection": {"get": operation(
            "getProtection", TAG, "Whether the device's password protection is on",
            {200: ok(obj({"enabled": BOOLEAN}))}), "post": _steer(
            "setProtection", "Turn the device's password protection on or off",
            {200: ok(obj({"enabled": BOOLEAN}))},
            json_body(obj({"enabled": BOOLEAN, "password": STRING}, required=("enabled",))),
            not_fuzzed="sets the device's password (locks the API)")},
        "/emulator/v1/scenario": {
            "get": operation("getScenario", TAG, "The running scenario",
                             {200: ok(ref("ScenarioState")), **NOTHING}),
            "post": _steer("startScenario", "Run a scenario of timed steps",
                           {201: ok(ref("ScenarioState"), "Started")},
                           json_body(scenario_request),
                           not_fuzzed="its steps reboot, silence and re-key the device"),
            "delete": _steer("stopScenario", "Stop the running scenario",
                             {204: NO_CONTENT, **NOTHING}, None),
        },
        "/emulator/v1/log": {"get": operation(
            "getLog", TAG, "The tail of this device's log",
            {200: ok(obj({"lines": array(STRING)}))}, errors=(400,),
            params=[query("lines", {"type": "integer", "minimum": 1, "maximum": 1000},
                          "how many lines (default 200)")])},
        "/emulator/v1/ui/stream": {"get": operation(
            "uiStream", TAG, "The web UI's own event stream (events `state` and `report`)",
            {200: {"description": "server-sent events; any number of clients",
                   "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
            not_fuzzed="an endless stream")},
        "/emulator/v1/openapi.json": {"get": operation(
            "getOpenApi", TAG, "This document",
            {200: ok({"type": "object", "required": ["openapi", "paths"]})})},
    }
