"""A small blocking HTTP client for the plugin's helpers (standard library only, so a test
needs nothing but the package): JSON in and out, and a reader of server-sent events."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: A hang guard for every request (the device answers at once; a fault may delay it).
TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class ControlError(RuntimeError):
    """A control request was refused (the message is the emulator's answer)."""


def request(method: str, url: str, body: Any = None, *,
            headers: dict[str, str] | None = None, timeout: float = TIMEOUT_S) -> Response:
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    sent.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:  # noqa: S310
            return Response(answer.status, answer.read(), dict(answer.headers.items()))
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(exc.code, exc.read(), dict(exc.headers.items()))


class EventStream:
    """An open server-sent-event stream; iterate for (event, data) pairs. Close it (or use
    it as a context manager) when done."""

    def __init__(self, url: str, timeout: float = TIMEOUT_S,
                 headers: dict[str, str] | None = None) -> None:
        req = urllib.request.Request(url, headers={"Accept": "text/event-stream",  # noqa: S310
                                                   **(headers or {})})
        self._answer = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310
        self.status: int = self._answer.status

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._answer.close()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return self.events()

    def events(self) -> Iterator[tuple[str, str]]:
        name, data = "message", list[str]()
        for raw in self._answer:
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line:
                if data:
                    yield name, "\n".join(data)
                name, data = "message", []
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))

    def next_json(self, event: str | None = None) -> Any:
        """The next event's data as JSON (of the named event, if given); EOFError when
        the stream ends first."""
        for name, data in self.events():
            if event is None or name == event:
                return json.loads(data)
        raise EOFError("the event stream ended")
