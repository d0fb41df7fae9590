"""Request bodies of the JSON endpoints: read within the size limit, parsed, or refused with
a message the client can act on."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class BodyError(Exception):
    """A body that is not JSON; the message goes to the client (400)."""


async def read_json(request: web.Request) -> Any:
    """The request's body as JSON. A body over the application's client_max_size raises
    aiohttp's 413 (the device_errors middleware answers it); one that does not parse
    raises BodyError."""
    raw = await request.read()
    if not raw.strip():
        raise BodyError("Invalid JSON: empty body")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BodyError("Invalid JSON: not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise BodyError(f"Invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from exc
