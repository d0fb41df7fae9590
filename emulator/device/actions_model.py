"""Actions (manual 6.6, newer docs 50-settings/actions/): the typed definition, constant
substitution, the Modbus value encodings, and the vocabulary the actions queue and its API
share (refusals, status entries, result codes). Pure: no I/O.

Constant substitution is a small `${name}` replacement of its own (no template engine in
the device yet): a string constant goes in as it is, any other as its JSON text (20,
1.5, true, null). A reference to a constant the definition does not hold is refused when
the definition is stored.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

#: The limits of the manual and the newer pages.
MAX_DEFINITION_BYTES: Final = 8191
MAX_PENDING: Final = 20  # requests queued or running, across all actions
STATUS_KEPT: Final = 40  # status entries kept (the newer status page: a rolling 40)
DEFAULT_HTTP_TIMEOUT: Final = 4.0
DEFAULT_MODBUS_TIMEOUT: Final = 5.0
HTTP_METHODS: Final = ("GET", "POST", "PUT", "DELETE")
MODBUS_TYPES: Final = ("hex", "short", "int", "long", "float", "double")
#: Which value types each function code takes (the manual's guidance table).
FUNCTION_TYPES: Final[Mapping[int, frozenset[str]]] = {
    5: frozenset({"short", "hex"}), 6: frozenset({"short", "hex"}),
    15: frozenset({"hex"}), 16: frozenset(MODBUS_TYPES),
}

#: Result codes (manual 6.6.3): an HTTP request's code is its HTTP status.
RUNNING: Final = -1  # newer status page: -1 while running (exe_time 0)
MODBUS_SUCCESS: Final = 1
GENERIC_ISSUE: Final = -1
RECEIVE_TIMEOUT: Final = -3
RECEIVE_ERROR: Final = -4
SEND_ERROR: Final = -7
CANNOT_RESOLVE: Final = -16
CANNOT_CONNECT: Final = -17
EXCEPTION_BASE: Final = -100  # minus the Modbus exception code

_REFERENCE: Final = re.compile(r"\$\{([^}]*)\}")


def const_text(value: str | int | float | bool | None) -> str:
    """How a constant reads once substituted."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def references(text: str) -> list[str]:
    return _REFERENCE.findall(text)


def substitute(text: str, consts: Mapping[str, str]) -> str:
    """`${name}` replaced by the constant's text; unknown names raise KeyError."""
    return _REFERENCE.sub(lambda m: consts[m.group(1)], text)


# --- Modbus values ------------------------------------------------------------------------

_INT_RANGES: Final = {"short": (16, 2), "int": (32, 4), "long": (64, 8)}


def modbus_bytes(kind: str, value: str) -> bytes:
    """The big-endian bytes of a value of `kind` (the manual's table); ValueError if the
    text does not fit the type."""
    text = value.strip()
    if kind == "hex":
        if len(text) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", text):
            raise ValueError(f"{value!r} is not an even-length hexadecimal string")
        return bytes.fromhex(text)
    if kind in _INT_RANGES:
        bits, size = _INT_RANGES[kind]
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"{value!r} is not an integer")
        number = int(text)
        if not -(1 << (bits - 1)) <= number < (1 << bits):
            raise ValueError(f"{number} does not fit a {bits}-bit {kind}")
        return (number & ((1 << bits) - 1)).to_bytes(size, "big")
    if kind in ("float", "double"):
        try:
            real = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(real):
            raise ValueError(f"{value!r} is not a finite number")
        try:
            return struct.pack(">f" if kind == "float" else ">d", real)
        except OverflowError:
            raise ValueError(f"{value!r} does not fit a 32-bit float") from None
    raise ValueError(f"unknown type {kind!r}")


def registers(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def coils(data: bytes) -> list[bool]:
    """The coils of raw bytes as FC 15 packs them: 8 per byte, least significant first."""
    return [bool(byte >> bit & 1) for byte in data for bit in range(8)]


ModbusWrite = bool | int | list[bool] | list[int]


def modbus_write(func: int, kind: str, value: str) -> ModbusWrite:
    """What a request writes: FC 5 one coil, FC 6 one register, FC 15 coils, FC 16
    registers. ValueError when the type or value does not suit the function."""
    if kind not in FUNCTION_TYPES.get(func, frozenset()):
        allowed = ", ".join(sorted(FUNCTION_TYPES.get(func, ())))
        raise ValueError(f"function {func} takes {allowed or 'no'} values, not {kind}")
    data = modbus_bytes(kind, value)
    if func in (5, 6) and len(data) != 2:
        raise ValueError(f"function {func} writes exactly one register (4 hex digits)")
    if func == 5:
        word = int.from_bytes(data, "big")
        if kind == "short" and word not in (0, 1):
            raise ValueError("a coil takes 0 or 1")
        if kind == "hex" and word not in (0x0000, 0x00FF, 0xFF00):
            raise ValueError("a coil takes 0000, 00FF or FF00")
        return word != 0
    if func == 6:
        return int.from_bytes(data, "big")
    if func == 15:
        return coils(data)
    if len(data) % 2:
        raise ValueError("function 16 writes whole registers (4 hex digits each)")
    return registers(data)


# --- the definition -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpRequest:
    url: str  # constants not yet substituted
    method: str = "GET"
    payload: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_HTTP_TIMEOUT
    enable: bool = True


@dataclass(frozen=True, slots=True)
class ModbusRequest:
    host: str
    func: int
    address: int
    value: str
    port: int = 502
    unit_id: int = 0
    type: str = "hex"
    timeout: float = DEFAULT_MODBUS_TIMEOUT
    enable: bool = True


Request = HttpRequest | ModbusRequest


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    requests: tuple[Request, ...]
    enable: bool = True


@dataclass(frozen=True, slots=True)
class ActionsDefinition:
    consts: Mapping[str, str]  # name -> text
    actions: tuple[Action, ...]

    def find(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def text(self, template: str) -> str:
        return substitute(template, self.consts)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActionsDefinition:
        """From a definition the settings schema has validated and normalised."""
        consts = {str(k): const_text(v) for k, v in dict(data.get("const") or {}).items()}
        return cls(consts, tuple(_action(a) for a in data["actions"]))


def _action(data: Mapping[str, Any]) -> Action:
    return Action(str(data["id"]), tuple(_request(r) for r in data["requests"]),
                  bool(data.get("enable", True)))


def _request(data: Mapping[str, Any]) -> Request:
    if "http" in data:
        h = data["http"]
        return HttpRequest(
            url=str(h["url"]), method=str(h.get("method", "GET")),
            payload=str(h.get("payload", "")),
            headers=tuple((str(k), str(v)) for k, v in dict(h.get("headers") or {}).items()),
            timeout=float(h.get("timeout", DEFAULT_HTTP_TIMEOUT)),
            enable=bool(h.get("enable", True)))
    m = data["modbus"]
    return ModbusRequest(
        host=str(m["host"]), func=int(m["func"]), address=int(m["address"]),
        value=str(m["value"]), port=int(m.get("port", 502)),
        unit_id=int(m.get("unit_id", 0)), type=str(m.get("type", "hex")),
        timeout=float(m.get("timeout", DEFAULT_MODBUS_TIMEOUT)),
        enable=bool(m.get("enable", True)))


# --- what the queue answers ---------------------------------------------------------------


class Refusal(StrEnum):
    NOT_FOUND = "no such action"  # 404
    DISABLED = "the action or all its requests are disabled"  # 400
    BUSY = "the action is still running"  # 409
    FULL = "too many requests pending"  # 429
    UNAVAILABLE = "actions are not running"  # 503


class ActionRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ActionStatus:
    action_id: str
    id: int
    code: int
    exe_time: float  # seconds; 0 while running

    def to_json(self) -> dict[str, Any]:
        return {"action_id": self.action_id, "id": self.id, "code": self.code,
                "exe_time": round(self.exe_time, 3)}
