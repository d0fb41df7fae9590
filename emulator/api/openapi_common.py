"""Building blocks of the OpenAPI document: operations, JSON answers, and the device's own
error answers (ESP-IDF httpd: text/html with a short sentence, emulator.api.common)."""

from __future__ import annotations

from typing import Any, Final

from emulator.api.common import ERROR_BODIES

Json = dict[str, Any]

#: Statuses every operation may answer whatever it does: protection on (401), a bug (500).
ALWAYS: Final = (401, 500)
#: ... and every operation that takes a body or changes something: a refused body (400),
#: a request from another site (403), a body over the limit (413), a foreign type (415).
WRITES: Final = (400, 403, 413, 415)

_NAMES: Final = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                 408: "RequestTimeout", 409: "Conflict", 413: "ContentTooLarge",
                 415: "UnsupportedMediaType", 429: "TooManyRequests", 500: "ServerError",
                 503: "ServiceUnavailable"}

#: Why a status is sent, beyond ESP-IDF's default sentence.
_WHY: Final = {
    400: "The request was refused and nothing changed; the body says why.",
    401: "Protection is on and the request carries no valid credentials (Digest and/or "
         "Basic, as --auth says).",
    403: "A request from another site (Origin / Sec-Fetch-Site), or the emulator's control "
         "API is off or needs X-Emulator-Token.",
    404: "No such resource, or `License required` on a licensed endpoint without Plus.",
    408: "The upload stalled.",
    409: "The action is already running.",
    413: "The body is larger than the endpoint takes.",
    415: "The body is not of the media type the endpoint takes.",
    429: "Too many calls queued.",
    500: "An unexpected error (logged once, counted); nothing was changed.",
    503: "The part is not there or busy (no SD card, no actions runner, a reboot under way).",
}


def html_response(status: int) -> Json:
    """A component response: the device's text/html error page."""
    example = ERROR_BODIES.get(status, "")
    response: Json = {"description": f"{_WHY.get(status, '')} Body: text/html, e.g. "
                                     f"`{example}`.".strip(),
                      "content": {"text/html": {"schema": {"type": "string"},
                                                "example": example}}}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {
            "description": "the challenge(s): Digest (MD5 and SHA-256) and/or Basic",
            "schema": {"type": "string"}}}
    return response


def error_components() -> Json:
    return {name: html_response(status) for status, name in _NAMES.items()}


def error_ref(status: int) -> Json:
    return {"$ref": f"#/components/responses/{_NAMES[status]}"}


def json_content(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def ok(schema: Json, description: str = "OK") -> Json:
    return {"description": description, "content": json_content(schema)}


def text(description: str, media: str = "text/plain") -> Json:
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


NO_CONTENT: Final[Json] = {"description": "Done; no body."}


def operation(op_id: str, tag: str, summary: str, responses: dict[int, Json], *,
              errors: tuple[int, ...] = (), body: Json | None = None,
              params: list[Json] | None = None, not_fuzzed: str | None = None,
              description: str | None = None) -> Json:
    """One operation; `errors` are the device's text/html answers besides ALWAYS (and
    WRITES when it takes a body); `not_fuzzed` says why a fuzzer must not run it against a
    device it cares about (x-emulator-not-fuzzed)."""
    out: Json = {"operationId": op_id, "tags": [tag], "summary": summary}
    if description:
        out["description"] = description
    if params:
        out["parameters"] = params
    if body is not None:
        out["requestBody"] = body
    codes: dict[str, Json] = {str(status): answer for status, answer in responses.items()}
    statuses = set(errors) | set(ALWAYS)
    if body is not None:
        statuses |= set(WRITES)
    for status in sorted(statuses):
        codes.setdefault(str(status), error_ref(status))
    out["responses"] = dict(sorted(codes.items()))
    if not_fuzzed:
        out["x-emulator-not-fuzzed"] = not_fuzzed
    return out


def json_body(schema: Json, *, required: bool = True) -> Json:
    return {"required": required, "content": json_content(schema)}


def query(name: str, schema: Json, description: str, *, required: bool = False) -> Json:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}
