"""/api/v1/actions (manual 6.6.1, newer docs 50-settings/actions/): the actions definition,
a settings section of its own. A POST replaces the whole definition; anything invalid is
refused (SettingsError) and the stored one stays. What is stored (and GET shows) is the
normalised definition: fields at their default omitted where the manual says so (`enable`
only when false, `method` only when not GET, `timeout` only when set), unknown fields
dropped. Stored as `{"definition": ... | null}`; null: none defined (GET answers 404).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

from emulator.device.actions_model import (
    FUNCTION_TYPES,
    HTTP_METHODS,
    MAX_DEFINITION_BYTES,
    MAX_PENDING,
    MODBUS_TYPES,
    const_text,
    modbus_write,
    references,
    substitute,
)
from emulator.device.errors import SettingsError

Json = dict[str, Any]
KEY: Final = "definition"
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name
_URL: Final = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def _fail(path: str, message: str) -> SettingsError:
    return SettingsError(f"{path}: {message}")


def _object(value: Any, path: str) -> Json:
    if not isinstance(value, dict):
        raise _fail(path, "expected an object")
    return value


def _text(value: Any, path: str, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise _fail(path, "expected a string")
    if not low <= len(value) <= high:
        raise _fail(path, f"length {len(value)} out of range {low}..{high}")
    return value


def _uint(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, "expected an integer")
    if not low <= value <= high:
        raise _fail(path, f"{value} out of range {low}..{high}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "expected true or false")
    return value


def _timeout(value: Any, path: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, "expected a number of seconds")
    if not 0.1 <= value <= 10:
        raise _fail(path, f"{value} out of range 0.1..10")
    return value


class _Resolver:
    """Substitutes the definition's constants, naming the field of an unknown one."""

    def __init__(self, consts: dict[str, str]) -> None:
        self.consts = consts

    def __call__(self, text: str, path: str) -> str:
        for name in references(text):
            if name not in self.consts:
                raise _fail(path, f"unknown constant ${{{name}}}")
        return substitute(text, self.consts)


def _consts(value: Any) -> tuple[Json, dict[str, str]]:
    data = _object(value, "const")
    for name, item in data.items():
        if isinstance(item, dict | list):
            raise _fail(f"const.{name}", "nested objects and arrays are not supported")
    return dict(data), {name: const_text(item) for name, item in data.items()}


def _http(data: Json, path: str, resolve: _Resolver) -> Json:
    out: Json = {}
    if "enable" in data and not _bool(data["enable"], f"{path}.enable"):
        out["enable"] = False
    url = _text(data.get("url"), f"{path}.url", 1, 255)
    if not _URL.fullmatch(resolve(url, f"{path}.url")):
        raise _fail(f"{path}.url", "expected an http:// or https:// URL")
    out["url"] = url
    method = data.get("method", "GET")
    if method not in HTTP_METHODS:
        raise _fail(f"{path}.method", f"must be one of {', '.join(HTTP_METHODS)}")
    if method != "GET":
        out["method"] = method
    if "payload" in data:
        payload = _text(data["payload"], f"{path}.payload", 0, 1023)
        resolve(payload, f"{path}.payload")
        out["payload"] = payload
    if "headers" in data:
        headers = _object(data["headers"], f"{path}.headers")
        if len(headers) > 4:
            raise _fail(f"{path}.headers", "at most 4 headers")
        for name, value in headers.items():
            where = f"{path}.headers.{name}"
            if not _TOKEN.fullmatch(name):
                raise _fail(where, "invalid header name")
            if not isinstance(value, str) or any(ch in value for ch in "\r\n\0"):
                raise _fail(where, "expected a one-line string")
            if len(name) + len(value) > 253:
                raise _fail(where, "name and value longer than 253 characters")
        out["headers"] = dict(headers)
    if "timeout" in data:
        out["timeout"] = _timeout(data["timeout"], f"{path}.timeout")
    return out


def _modbus(data: Json, path: str, resolve: _Resolver) -> Json:
    out: Json = {}
    if "enable" in data and not _bool(data["enable"], f"{path}.enable"):
        out["enable"] = False
    host = _text(data.get("host"), f"{path}.host", 4, 63)
    _text(resolve(host, f"{path}.host"), f"{path}.host", 4, 63)
    out["host"] = host
    if "port" in data:
        out["port"] = _uint(data["port"], f"{path}.port", 1, 65535)
    if "unit_id" in data:
        out["unit_id"] = _uint(data["unit_id"], f"{path}.unit_id", 0, 255)
    func = data.get("func")
    if isinstance(func, bool) or not isinstance(func, int) or func not in FUNCTION_TYPES:
        raise _fail(f"{path}.func", "must be 5, 6, 15 or 16")
    out["func"] = func
    out["address"] = _uint(data.get("address"), f"{path}.address", 0, 65535)
    kind = data.get("type", "hex")
    if kind not in MODBUS_TYPES:
        raise _fail(f"{path}.type", f"must be one of {', '.join(MODBUS_TYPES)}")
    if "type" in data:
        out["type"] = kind
    value = _text(data.get("value"), f"{path}.value", 1, 492)
    try:
        modbus_write(func, kind, resolve(value, f"{path}.value"))
    except ValueError as exc:
        raise _fail(f"{path}.value", str(exc)) from exc
    out["value"] = value
    if "timeout" in data:
        out["timeout"] = _timeout(data["timeout"], f"{path}.timeout")
    return out


_KINDS: Final[dict[str, Callable[[Json, str, _Resolver], Json]]] = {
    "http": _http, "modbus": _modbus}


def _request(value: Any, path: str, resolve: _Resolver) -> Json:
    data = _object(value, path)
    kinds = [kind for kind in _KINDS if kind in data]
    if len(kinds) != 1:
        raise _fail(path, "expected exactly one of http or modbus")
    kind = kinds[0]
    return {kind: _KINDS[kind](_object(data[kind], f"{path}.{kind}"), f"{path}.{kind}",
                               resolve)}


def _action(value: Any, path: str, resolve: _Resolver) -> Json:
    data = _object(value, path)
    out: Json = {"id": _text(data.get("id"), f"{path}.id", 1, 31)}
    if "enable" in data and not _bool(data["enable"], f"{path}.enable"):
        out["enable"] = False
    requests = data.get("requests")
    if not isinstance(requests, list) or not requests:
        raise _fail(f"{path}.requests", "expected a non-empty array")
    if len(requests) > MAX_PENDING:
        raise _fail(f"{path}.requests", f"at most {MAX_PENDING} requests")
    out["requests"] = [_request(r, f"{path}.requests[{i}]", resolve)
                       for i, r in enumerate(requests)]
    return out


def parse_definition(body: Any) -> Json:
    """The normalised definition; SettingsError naming the first invalid field."""
    data = _object(body, "body")
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_DEFINITION_BYTES:
        raise SettingsError(f"body: definition of {size} bytes, at most "
                            f"{MAX_DEFINITION_BYTES}")
    out: Json = {}
    texts: dict[str, str] = {}
    if "const" in data:
        out["const"], texts = _consts(data["const"])
    resolve = _Resolver(texts)
    actions = data.get("actions")
    if not isinstance(actions, list):
        raise _fail("actions", "expected an array")
    out["actions"] = [_action(a, f"actions[{i}]", resolve) for i, a in enumerate(actions)]
    seen: set[str] = set()
    for action in out["actions"]:
        if action["id"] in seen:
            raise _fail("actions", f"duplicate id {action['id']!r}")
        seen.add(action["id"])
    return out


class ActionsSchema:
    """The section's schema (SectionSchema): the definition or None."""

    def defaults(self) -> Json:
        return {KEY: None}

    def replace(self, body: Any) -> Json:
        return {KEY: parse_definition(body)}

    def merge(self, current: Json, body: Any) -> Json:
        return self.replace(body)

    def public(self, data: Json) -> Json:
        return {KEY: data.get(KEY)}

    def complete(self, stored: Json) -> Json:
        definition = stored.get(KEY)
        if definition is None:
            return self.defaults()
        try:
            return self.replace(definition)
        except SettingsError:
            return self.defaults()  # a hand-edited file that no longer parses


ACTIONS_SETTINGS: Final = ActionsSchema()
