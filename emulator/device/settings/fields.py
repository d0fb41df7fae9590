"""Settings schemas as tables of fields, and the device's update rules (manual 6.1).

- GET returns the stored values; secret fields are never returned (a `<name>_len` field
  says how long they are, where the manual documents one).
- POST replaces: fields absent from the body go back to their factory value.
- PUT merges: only the fields present change.
- Anything invalid raises SettingsError with a message naming the field; the caller then
  keeps the stored settings untouched (validation always runs on a copy).
- Fields the schema does not know are ignored, so a client can send back what GET gave
  it (GET includes read-only fields such as `password_len`).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulator.device.errors import SettingsError

Json = dict[str, Any]


def _path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@dataclass(frozen=True, slots=True)
class Field:
    """Base of every field. Subclasses implement `check`."""

    default: Any = None
    secret: bool = False  # never returned by GET
    length_key: str | None = None  # GET shows len(value) under this key instead
    nullable: bool = False  # null in a request sets the field back to its default

    def check(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def validate(self, value: Any, path: str) -> Any:
        if value is None and self.nullable:
            return self.default
        return self.check(value, path)


@dataclass(frozen=True, slots=True)
class Bool(Field):
    default: bool = False

    def check(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{path}: expected true or false")
        return value


@dataclass(frozen=True, slots=True)
class Int(Field):
    default: int = 0
    minimum: int = -(2**31)
    maximum: int = 2**31 - 1

    def check(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{path}: expected an integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise SettingsError(f"{path}: expected an integer, got {value}")
            value = int(value)
        if not self.minimum <= value <= self.maximum:
            raise SettingsError(f"{path}: {value} out of range {self.minimum}..{self.maximum}")
        return int(value)


@dataclass(frozen=True, slots=True)
class Number(Field):
    default: float = 0.0
    minimum: float = -math.inf
    maximum: float = math.inf
    step: float | None = None  # values must be multiples of step

    def check(self, value: Any, path: str) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{path}: expected a number")
        if not math.isfinite(value) or not self.minimum <= value <= self.maximum:
            raise SettingsError(f"{path}: {value} out of range {self.minimum:g}..{self.maximum:g}")
        if self.step is not None and not math.isclose(value / self.step,
                                                      round(value / self.step), abs_tol=1e-9):
            raise SettingsError(f"{path}: {value} is not a multiple of {self.step:g}")
        return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True, slots=True)
class Text(Field):
    default: str = ""
    min_length: int = 0
    max_length: int = 255
    pattern: re.Pattern[str] | None = None
    rule: str = ""  # words for the pattern, for the error message
    allow_empty: bool = False  # "" accepted even when min_length > 0

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise SettingsError(f"{path}: expected a string")
        if value == "" and self.allow_empty:
            return value
        if not self.min_length <= len(value) <= self.max_length:
            raise SettingsError(
                f"{path}: length {len(value)} out of range {self.min_length}..{self.max_length}")
        if self.pattern is not None and value and not self.pattern.fullmatch(value):
            raise SettingsError(f"{path}: {self.rule or 'invalid value'}")
        return value


@dataclass(frozen=True, slots=True)
class Choice(Field):
    default: str = ""
    choices: tuple[str, ...] = ()

    def check(self, value: Any, path: str) -> str:
        if value not in self.choices:
            raise SettingsError(f"{path}: must be one of {', '.join(self.choices)}")
        return str(value)


_HEX32 = re.compile(r"[0-9A-Fa-f]{32}")


@dataclass(frozen=True, slots=True)
class HexKey(Field):
    """A 128-bit key as 32 hex digits; never returned; 32 zeros clear it."""

    default: str = ""
    secret: bool = True

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not _HEX32.fullmatch(value):
            raise SettingsError(f"{path}: expected 32 hexadecimal characters")
        return "" if set(value) == {"0"} else value.upper()


@dataclass(frozen=True, slots=True)
class Ipv4(Field):
    default: str = "0.0.0.0"  # noqa: S104 - a settings value, not a bind address

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise SettingsError(f"{path}: expected an IPv4 address string")
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError as exc:
            raise SettingsError(f"{path}: {value!r} is not an IPv4 address") from exc


@dataclass(frozen=True, slots=True)
class Group(Field):
    """A nested object of fields."""

    fields: Mapping[str, Field] = field(default_factory=dict)

    def check(self, value: Any, path: str) -> Json:
        raise NotImplementedError("groups are merged, not checked as a value")


Check = Callable[[Json], None]
#: Repairs what was read from disk: (as stored, as completed) -> None, edits the latter.
LoadFix = Callable[[Json, Json], None]


class SectionSchema(Protocol):
    """What the settings registry needs of an endpoint's schema."""

    def defaults(self) -> Json: ...

    def replace(self, body: Any) -> Json: ...

    def merge(self, current: Json, body: Any) -> Json: ...

    def public(self, data: Json) -> Json: ...

    def complete(self, stored: Json) -> Json: ...


@dataclass(frozen=True, slots=True)
class Schema:
    """The fields of one settings endpoint, and its cross-field rules."""

    fields: Mapping[str, Field]
    checks: tuple[Check, ...] = ()
    #: Other names a request may use for a top-level field (alias -> field name); the
    #: field's own name wins when a body carries both. GET shows the field's name only.
    aliases: Mapping[str, str] = field(default_factory=dict)
    load_fixes: tuple[LoadFix, ...] = ()

    def defaults(self) -> Json:
        return _defaults(self.fields)

    def replace(self, body: Any) -> Json:
        """POST: factory values for what the body leaves out."""
        return self._finish(_merge(self.fields, self.defaults(), self._body(body), ""))

    def merge(self, current: Json, body: Any) -> Json:
        """PUT: change only what the body says."""
        return self._finish(_merge(self.fields, current, self._body(body), ""))

    def public(self, data: Json) -> Json:
        """What GET returns: secrets hidden, their lengths shown where documented."""
        return _public(self.fields, data)

    def complete(self, stored: Json) -> Json:
        """Stored data from an older release, with new fields at their factory values."""
        out = _complete(self.fields, stored)
        for fix in self.load_fixes:
            fix(stored, out)
        return out

    def _body(self, body: Any) -> Json:
        data = _object(body, "")
        if not self.aliases:
            return data
        out = {k: v for k, v in data.items() if k not in self.aliases}
        for alias, name in self.aliases.items():
            if alias in data and name not in data:
                out[name] = data[alias]
        return out

    def _finish(self, data: Json) -> Json:
        for check in self.checks:
            check(data)
        return data


def _object(value: Any, path: str) -> Json:
    if not isinstance(value, dict):
        raise SettingsError(f"{path or 'body'}: expected a JSON object")
    return value


def _defaults(fields: Mapping[str, Field]) -> Json:
    out: Json = {}
    for name, spec in fields.items():
        out[name] = _defaults(spec.fields) if isinstance(spec, Group) else spec.default
    return out


def _merge(fields: Mapping[str, Field], base: Json, body: Json, path: str) -> Json:
    out = dict(base)
    for name, value in body.items():
        spec = fields.get(name)
        if spec is None:
            continue
        where = _path(path, name)
        if isinstance(spec, Group):
            if value is None and spec.nullable:
                out[name] = _defaults(spec.fields)
                continue
            out[name] = _merge(spec.fields, dict(base.get(name) or _defaults(spec.fields)),
                               _object(value, where), where)
        else:
            out[name] = spec.validate(value, where)
    return out


def _public(fields: Mapping[str, Field], data: Json) -> Json:
    out: Json = {}
    for name, spec in fields.items():
        value = data.get(name, spec.default)
        if isinstance(spec, Group):
            out[name] = _public(spec.fields, value or {})
        elif spec.secret:
            if spec.length_key:
                out[spec.length_key] = len(value) if isinstance(value, str) else 0
        else:
            out[name] = value
    return out


def _complete(fields: Mapping[str, Field], stored: Json) -> Json:
    out: Json = {}
    for name, spec in fields.items():
        if isinstance(spec, Group):
            inner = stored.get(name)
            out[name] = _complete(spec.fields, inner if isinstance(inner, dict) else {})
            continue
        value = stored.get(name, spec.default)
        try:
            out[name] = spec.validate(value, name) if value != spec.default else value
        except SettingsError:
            out[name] = spec.default  # a value an older release allowed: back to factory
    return out


@dataclass(frozen=True, slots=True)
class ListSchema:
    """A section whose request and answer bodies are a JSON array (custom scalers, and the
    list-valued endpoints to come). It is stored as `{key: [...]}` in the same atomic store
    as every object section. POST replaces the list; there is no merge (PUT replaces too).

    `parse` validates and normalises the whole list (raising SettingsError with the reason);
    a stored list that no longer parses (a hand edit, an older release) reads as empty."""

    key: str
    parse: Callable[[list[Any]], list[Any]]
    max_items: int | None = None

    def defaults(self) -> Json:
        return {self.key: []}

    def replace(self, body: Any) -> Json:
        if not isinstance(body, list):
            raise SettingsError("body: expected a JSON array")
        if self.max_items is not None and len(body) > self.max_items:
            raise SettingsError(f"body: at most {self.max_items} entries")
        return {self.key: self.parse(body)}

    def merge(self, current: Json, body: Any) -> Json:
        return self.replace(body)

    def public(self, data: Json) -> Json:
        return {self.key: list(data.get(self.key, []))}

    def complete(self, stored: Json) -> Json:
        items = stored.get(self.key, [])
        try:
            return self.replace(items)
        except SettingsError:
            return self.defaults()

    def answer(self, public: Json) -> Any:
        """What the endpoint sends: the list itself."""
        return public[self.key]
