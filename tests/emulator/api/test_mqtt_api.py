"""/api/v1/mqtt/settings and /api/v1/template/test over real HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.device.core import Device
from emulator.device.values import num
from meter_protocols.readings import FrameDecoded, Interface
from tests.emulator.pki import chain
from tests.support import ManualClock, build_device, device_settings, ensor_readings

ClientFactory = Callable[..., Awaitable[TestClient]]  # type: ignore[type-arg]
PATH = "/api/v1/mqtt/settings"

#: The newer MQTT client page's GET example, as a body to send.
DOC_EXAMPLE = {
    "enable": False, "url": "mqtts://broker.example.com", "username": "demo",
    "client_id": "device123", "skip_cn_check": False,
    "publish": {"topic": "test", "template": "{\"P_In\": ${1_7_0}}"}, "password_len": 0,
}


async def test_get_post_put(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(PATH)
    assert response.status == 200 and response.content_type == "application/json"
    assert (await response.json())["password_len"] == 0
    response = await client.post(PATH, json=DOC_EXAMPLE | {"password": "pw123"})
    assert response.status == 200
    answer = await response.json()
    assert answer == DOC_EXAMPLE | {"password_len": 5}
    assert "password" not in answer
    # PUT one field: the password stays.
    answer = await (await client.put(PATH, json={"enable": True})).json()
    assert answer["enable"] is True and answer["password_len"] == 5
    assert await (await client.get(PATH)).json() == answer
    # POST replaces: without a password there is none.
    answer = await (await client.post(PATH, json={"url": "mqtt://10.0.0.9"})).json()
    assert answer["password_len"] == 0 and answer["username"] == ""


async def test_bad_input_is_400_and_changes_nothing(client: TestClient,  # type: ignore[type-arg]
                                                    device: Device) -> None:
    await client.post(PATH, json=DOC_EXAMPLE)
    before = await (await client.get(PATH)).json()
    for body in ({"url": "tcp://broker"}, {"client_id": "x" * 64},
                 {"broker": {"certificate": "not a certificate"}},
                 {"client": {"certificate": chain().client.cert}}):
        response = await client.put(PATH, json=body)
        assert response.status == 400, body
        assert next(iter(body)) in await response.text()
    assert (await client.post(PATH, data=b"{nope")).status == 400
    assert (await client.post(PATH, data=b"x" * 9000)).status == 413  # over 8 kB
    assert await (await client.get(PATH)).json() == before


async def test_settings_are_persisted(client: TestClient,  # type: ignore[type-arg]
                                      tmp_path: Path) -> None:
    pki = chain()
    body = {"enable": True, "url": "mqtts://127.0.0.1:8883", "broker": {"certificate":
            pki.ca.cert}, "client": {"certificate": pki.client.cert, "key": pki.client.key}}
    answer = await (await client.post(PATH, json=body)).json()
    assert answer["client"]["key_len"] == len(pki.client.key)
    assert device_settings(tmp_path).mqtt.client_key == pki.client.key


async def test_the_endpoint_works_on_the_free_licence(aiohttp_client: ClientFactory,
                                                      tmp_path: Path) -> None:
    device = build_device(tmp_path, ManualClock(), license_type="FREE")
    client = await aiohttp_client(create_app(device))
    assert (await client.post(PATH, json={"enable": True})).status == 200
    assert (await client.get(PATH)).status == 200
    response = await client.post("/api/v1/template/test", json={"template": "${sys.id}"})
    assert response.status == 404 and await response.text() == "License required"


async def test_template_test_renders_against_the_current_report(
        client: TestClient, device: Device, clock: ManualClock) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/template/test", json={"template": "${1_7_0}|${x}"})
    assert response.status == 200 and response.content_type == "text/plain"
    assert await response.text() == "null|${x}"  # no report yet
    device.link_listening(Interface.P1, "test")
    reading = ensor_readings(1)[0]
    clock.advance(1)
    device.on_event(FrameDecoded(reading, 900), Interface.P1)
    expected = num(reading.values["1.7.0"] / 1000)
    response = await client.post("/api/v1/template/test",
                                 data=b'{"id":"${sys.id}","p":${1_7_0}}')
    assert await response.text() == f'{{"id":"A842E39F8124","p":{expected}}}'
    too_long = await client.post("/api/v1/template/test", json={"template": "x" * 1024})
    assert too_long.status == 400
