"""The per-second and per-report caches of /api/v1/report and /api/v1/system serve the bytes
a fresh encoding would give, and follow every change at once."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from emulator.api.common import dumps, encode
from emulator.api.system import _Cache, fingerprint, system_body
from emulator.device.core import Device
from emulator.device.system_info import system_info
from tests.support import ManualClock


def test_the_fingerprint_tells_apart_what_equality_does_not() -> None:
    assert fingerprint({"a": 1, "b": [1.5, "x"]}) == fingerprint({"a": 1, "b": [1.5, "x"]})
    for a, b in (({"a": 1}, {"a": 1.0}), ({"a": True}, {"a": 1}), ({"a": 0.0}, {"a": -0.0}),
                 ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
                 ({"a": {"b": 1}}, {"a": {"b": 2}})):
        assert dumps(a) != dumps(b)  # each pair is JSON that differs
        assert fingerprint(a) != fingerprint(b), (a, b)


def test_what_marshal_cannot_write_is_never_cached() -> None:
    cache = _Cache()
    info: dict[str, Any] = {"odd": object()}
    assert fingerprint(info) is None
    assert system_body(info, cache) == encode(dumps(info))
    info2: dict[str, Any] = {"odd": object()}
    assert system_body(info2, cache) == encode(dumps(info2)) != encode(dumps(info))


def test_a_body_is_reused_only_for_the_same_object() -> None:
    cache = _Cache()
    first: dict[str, Any] = {"device": {"name": "a", "time_since_boot": 1}}
    body = system_body(first, cache)
    assert body == encode(dumps(first))
    assert system_body({"device": {"name": "a", "time_since_boot": 1}}, cache) is body
    changed = {"device": {"name": "a", "time_since_boot": True}}  # == first, other JSON
    assert system_body(changed, cache) == encode(dumps(changed)) != body


async def test_system_follows_the_clock_and_the_settings_at_once(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    async def body() -> bytes:
        response = await client.get("/api/v1/system")
        assert response.status == 200
        return await response.read()

    first = await body()
    assert first == encode(dumps(system_info(device)))
    assert await body() == first
    clock.advance(0.4)  # the same second (the manual clock starts on a whole second)
    assert await body() == first
    clock.advance(0.7)
    later = await body()
    assert later != first and later == encode(dumps(system_info(device)))
    answer = await client.post("/api/v1/settings", json={"system": {"name": "renamed"}})
    assert answer.status == 200, await answer.text()
    renamed = await body()
    assert b'"name":"renamed"' in renamed and renamed == encode(dumps(system_info(device)))


async def test_report_system_part_follows_each_second(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    async def system_part() -> dict[str, Any]:
        body: dict[str, Any] = await (await client.get("/api/v1/report")).json()
        return body["system"]  # type: ignore[no-any-return]

    first = await system_part()
    clock.advance(0.4)
    assert await system_part() == first
    clock.advance(0.7)
    later = await system_part()
    assert later["time_since_boot"] == first["time_since_boot"] + 1
    assert later["date_time_utc"] != first["date_time_utc"]
