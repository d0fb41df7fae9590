"""Request bodies of the JSON endpoints: read within the size limit, parsed, or refused with
a message the client can act on. `read_json` is the one path every JSON write goes through.

What is refused, and why (none of it can reach a handler):
- a Content-Type other than JSON's, application/x-www-form-urlencoded (what `curl -d`
  sends, as in the manual's own examples), application/octet-stream or none (415):
  text/plain and multipart bodies are what a foreign web page can send without the
  browser asking first;
- nesting deeper than MAX_DEPTH (the parser would recurse until Python's limit);
- integers longer than MAX_DIGITS digits (Python refuses to convert them past 4300), and
  numbers that are not finite (NaN, Infinity, 1e999): no setting holds either;
- text that cannot be stored as UTF-8 (a lone surrogate such as "\\ud800").
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

#: Arrays and objects nested deeper than this are refused (the deepest setting is 3).
MAX_DEPTH = 32
#: Integers with more digits than this are refused (64-bit values have at most 20).
MAX_DIGITS = 40
#: Content types a JSON write may carry (none at all is accepted too): JSON's, what
#: `curl -d` sends (the manual's examples), and raw bytes. A browser sends none of the last
#: two cross-site without the Origin header that emulator.api.middleware refuses, and
#: cannot send the others cross-site without asking the device first (CORS preflight).
JSON_TYPES = ("application/json", "application/x-www-form-urlencoded",
              "application/octet-stream")


class BodyError(Exception):
    """A body that is not JSON; the message goes to the client (400)."""


class UnsupportedMediaType(BodyError):
    """A body whose Content-Type is not JSON's (415)."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BodyError(f"Invalid JSON: a number with more than {MAX_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_DIGITS * 2:
        raise BodyError(f"Invalid JSON: a number longer than {MAX_DIGITS * 2} characters")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BodyError(f"Invalid JSON: {text[:20]} is out of range")
    return value


def _constant(text: str) -> Any:
    raise BodyError(f"Invalid JSON: {text} is not a number")


def _depth(text: str) -> int:
    """The deepest nesting of arrays/objects in JSON text (brackets inside strings are not
    counted); found without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_text(value: Any) -> None:
    """Every string (key or value) must be storable as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise BodyError("Invalid JSON: a string holds a lone surrogate "
                                f"({item[exc.start]!r})") from exc
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(raw: bytes) -> Any:
    """Bytes to JSON within the limits above; BodyError with the reason otherwise."""
    if not raw.strip():
        raise BodyError("Invalid JSON: empty body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError("Invalid JSON: not UTF-8") from exc
    if _depth(text) > MAX_DEPTH:
        raise BodyError(f"Invalid JSON: nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float,
                           parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BodyError(f"Invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from exc
    except RecursionError as exc:  # cannot happen below MAX_DEPTH; kept as a guard
        raise BodyError(f"Invalid JSON: nested deeper than {MAX_DEPTH} levels") from exc
    _check_text(value)
    return value


async def read_json(request: web.Request) -> Any:
    """The request's body as JSON. A body over the application's client_max_size raises
    aiohttp's 413 (the device_errors middleware answers it); a Content-Type that is not
    JSON's raises UnsupportedMediaType; one that does not parse raises BodyError."""
    kind = request.content_type
    if request.headers.get("Content-Type") and kind not in JSON_TYPES and not (
            kind.startswith("application/") and kind.endswith("+json")):
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {request.content_type}: send application/json")
    return parse_json(await request.read())
