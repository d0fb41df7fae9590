"""/api/v1/actions: the definition (normalised, validated, persisted, limited to 8191 bytes),
and the answers of a call that is refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from emulator.device.core import Device
from emulator.device.settings import sections
from tests.support import device_settings, doc_json_blocks

DOC = "50-settings/actions/index.md"


def documented() -> dict[str, Any]:
    example: dict[str, Any] = doc_json_blocks(DOC)[0]
    return example


async def test_none_defined_is_404(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/api/v1/actions")).status == 404


async def test_the_documented_example_is_stored_and_shown_normalised(
        client: TestClient, tmp_path: Path) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/actions", json=documented())
    assert response.status == 200, await response.text()
    shown = await (await client.get("/api/v1/actions")).json()
    assert shown == await response.json()
    assert shown["const"] == documented()["const"]
    assert shown["actions"][0]["requests"][0]["http"] == {
        "url": "http://192.168.0.21/api/v1/device/self", "method": "POST",
        "payload": "action=toggle",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    assert shown["actions"][2]["requests"][0]["http"]["timeout"] == 2
    assert shown["actions"][3]["requests"][0]["modbus"]["value"] == "${bri}"
    # Persisted: the settings as the next start reads them.
    again = device_settings(tmp_path)
    definition = again.actions
    assert definition is not None and [a.id for a in definition.actions] == ["1", "2", "3", "4"]
    assert definition.text(definition.actions[1].requests[0].url) == \
        "http://192.168.99.101/light/0?turn=on&brightness=20&temp=3000"  # type: ignore[union-attr]


async def test_default_values_are_omitted(client: TestClient) -> None:  # type: ignore[type-arg]
    body = {"actions": [{"id": "a", "enable": True, "requests": [
        {"http": {"url": "http://127.0.0.1/x", "method": "GET", "enable": True}},
        {"http": {"url": "http://127.0.0.1/y", "enable": False, "extra": 1}},
        {"modbus": {"host": "127.0.0.1", "func": 6, "address": 1, "value": "0001"}}]},
        {"id": "b", "enable": False, "requests": [{"http": {"url": "http://a.b/"}}]}]}
    shown = await (await client.post("/api/v1/actions", json=body)).json()
    assert shown == {"actions": [{"id": "a", "requests": [
        {"http": {"url": "http://127.0.0.1/x"}},
        {"http": {"enable": False, "url": "http://127.0.0.1/y"}},
        {"modbus": {"host": "127.0.0.1", "func": 6, "address": 1, "value": "0001"}}]},
        {"id": "b", "enable": False, "requests": [{"http": {"url": "http://a.b/"}}]}]}


def _with(path: str, value: Any) -> dict[str, Any]:
    body = documented()
    target: Any = body
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is _DROP:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return body


_DROP = object()
_HTTP = "actions.0.requests.0.http"
_MODBUS = "actions.3.requests.0.modbus"

INVALID = [
    ("const.nested", {"a": 1}),
    ("const.list", [1]),
    ("actions", {"id": "1"}),
    ("actions.0.id", ""),
    ("actions.0.id", "x" * 32),
    ("actions.0.id", 1),
    ("actions.1.id", "1"),  # duplicate
    ("actions.0.enable", "yes"),
    ("actions.0.requests", []),
    ("actions.0.requests", [{}]),
    ("actions.0.requests.0", {"http": {"url": "http://a/"}, "modbus": {}}),
    (_HTTP + ".url", _DROP),
    (_HTTP + ".url", "x" * 256),
    (_HTTP + ".url", "ftp://host/file"),
    (_HTTP + ".url", "http://${nowhere}/x"),
    (_HTTP + ".method", "PATCH"),
    (_HTTP + ".payload", "p" * 1024),
    (_HTTP + ".payload", "${unknown}"),
    (_HTTP + ".headers", {"A": "1", "B": "2", "C": "3", "D": "4", "E": "5"}),
    (_HTTP + ".headers", {"X-Long": "v" * 248}),
    (_HTTP + ".headers", {"Bad Name": "v"}),
    (_HTTP + ".headers", {"X-Inject": "a\r\nEvil: 1"}),
    (_HTTP + ".timeout", 0.05),
    (_HTTP + ".timeout", 11),
    (_MODBUS + ".host", "a.b"),
    (_MODBUS + ".host", "h" * 64),
    (_MODBUS + ".port", 0),
    (_MODBUS + ".port", 65536),
    (_MODBUS + ".unit_id", 256),
    (_MODBUS + ".func", 3),
    (_MODBUS + ".func", True),
    (_MODBUS + ".address", 65536),
    (_MODBUS + ".address", -1),
    (_MODBUS + ".type", "word"),
    (_MODBUS + ".value", ""),
    (_MODBUS + ".value", "1" * 493),
    (_MODBUS + ".value", "70000"),  # not a short
    (_MODBUS + ".value", "1.5"),  # not a short
    (_MODBUS + ".timeout", 0),
]


@pytest.mark.parametrize(("path", "value"), INVALID)
async def test_invalid_definitions_are_refused_and_the_old_one_stays(
        client: TestClient, device: Device, path: str, value: Any) -> None:  # type: ignore[type-arg]
    assert (await client.post("/api/v1/actions", json=documented())).status == 200
    before = copy.deepcopy(device.settings.get(sections.ACTIONS))
    response = await client.post("/api/v1/actions", json=_with(path, value))
    assert response.status == 400, (path, value)
    assert await response.text()  # says why
    assert device.settings.get(sections.ACTIONS) == before


MODBUS_VALUES = [  # (func, type, value, accepted)
    (5, "short", "1", True), (5, "short", "2", False), (5, "hex", "00FF", True),
    (5, "hex", "0001", False), (5, "int", "1", False),
    (6, "short", "-32768", True), (6, "short", "65535", True), (6, "short", "65536", False),
    (6, "hex", "ABCD", True), (6, "hex", "ABCDEF", False), (6, "float", "1", False),
    (15, "hex", "A1B2C3", True), (15, "short", "1", False),
    (16, "hex", "0809A0B0", True), (16, "hex", "080", False), (16, "hex", "08", False),
    (16, "int", "-2147483648", True), (16, "int", "4294967296", False),
    (16, "long", "18446744073709551615", True), (16, "long", "1e3", False),
    (16, "float", "-1.23", True), (16, "float", "1e39", False), (16, "float", "nan", False),
    (16, "double", "1e300", True), (16, "double", "abc", False),
    (16, "hex", "AB" * 246, True),
]


@pytest.mark.parametrize(("func", "kind", "value", "accepted"), MODBUS_VALUES)
async def test_modbus_values_must_suit_the_function_and_type(
        client: TestClient, func: int, kind: str, value: str, accepted: bool) -> None:  # type: ignore[type-arg]
    body = {"actions": [{"id": "m", "requests": [{"modbus": {
        "host": "127.0.0.1", "func": func, "address": 0, "type": kind, "value": value}}]}]}
    response = await client.post("/api/v1/actions", json=body)
    assert (response.status == 200) is accepted, await response.text()


async def test_the_definition_is_limited_to_8191_bytes(client: TestClient, device: Device) -> None:  # type: ignore[type-arg]
    def sized(total: int) -> bytes:
        head = b'{"const":{"pad":"'
        tail = b'"},"actions":[]}'
        return head + b"x" * (total - len(head) - len(tail)) + tail

    assert len(sized(8191)) == 8191
    ok = await client.post("/api/v1/actions", data=sized(8191))
    assert ok.status == 200, await ok.text()
    stored = copy.deepcopy(device.settings.get(sections.ACTIONS))
    for size in (8192, 9000, 20000):
        response = await client.post("/api/v1/actions", data=sized(size))
        assert response.status == 400, size
    assert device.settings.get(sections.ACTIONS) == stored


async def test_not_json_is_400(client: TestClient) -> None:  # type: ignore[type-arg]
    for data in (b"", b"{", b"[]", json.dumps({"const": {}}).encode()):
        assert (await client.post("/api/v1/actions", data=data)).status == 400, data


async def test_delete_removes_the_definition(client: TestClient, tmp_path: Path) -> None:  # type: ignore[type-arg]
    await client.post("/api/v1/actions", json=documented())
    assert (await client.delete("/api/v1/actions")).status == 204
    assert (await client.get("/api/v1/actions")).status == 404
    assert device_settings(tmp_path).actions is None


async def test_calls_without_the_runner_or_an_id(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.post("/api/v1/actions/call")).status == 400
    assert (await client.post("/api/v1/actions/call?id=1")).status == 503  # no runner port
    assert (await client.get("/api/v1/actions/status?id=x")).status == 400
