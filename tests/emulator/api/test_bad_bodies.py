"""Issue 10: no body sent to a JSON endpoint may get a 500 (a table of bad values placed
in every field shape, times every JSON endpoint), and what the JSON encoder and the
last-resort middleware do when something still goes wrong."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.api import create_app
from emulator.api.body import BodyError, parse_json
from emulator.api.common import dumps, encode
from emulator.api.middleware import FAULTS
from emulator.device.core import Device
from emulator.device.objects import report_objects
from meter_protocols.dlms import DlmsDecoder
from meter_protocols.readings import FrameDecoded, Interface, MeterReading
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from tests.emulator.api.conftest import ClientFactory
from tests.meter_protocols.dlms.helpers import readings
from tests.support import ENSOR_MOMENT

#: Every endpoint that reads a JSON body, with its write methods.
JSON_ENDPOINTS = [
    ("/api/v1/settings", "POST"), ("/api/v1/settings", "PUT"),
    ("/api/v1/meter/settings", "POST"), ("/api/v1/meter/settings", "PUT"),
    ("/api/v1/meter/scalers/custom", "POST"),
    ("/api/v1/wifi/sta/settings", "POST"), ("/api/v1/wifi/sta/settings", "PUT"),
    ("/api/v1/eth/settings", "POST"), ("/api/v1/eth/settings", "PUT"),
    ("/emulator/v1/meter", "POST"), ("/emulator/v1/clock", "POST"),
]

#: Bad JSON values (as text) ...
BAD_VALUES = [
    "1" * 5000, "-" + "9" * 5000, "1e999", "-1e999", "NaN", "Infinity", "-Infinity",
    "1" * 400 + ".5", "0." + "0" * 5000 + "1", "18446744073709551616",
    "-9223372036854775809", "1e308", "-1e-400", '"\\ud800"', '"a\\udfff"', '"\\u0000"',
    '"' + "x" * 7000 + '"', "[" * 5000 + "]" * 5000, "{" * 3000, '{"a":' * 2000 + "1" +
    "}" * 2000, "[]", "{}", "null", "true", "1.5", "-1", '"1"', "2147483648",
]
#: ... placed where the endpoints look for values.
SHAPES = [
    "{V}", '{"system":{"name":{V}}}', '{"system":{"host_name":{V}}}',
    '{"system":{"protection":{V},"password":{V}}}', '{"services":{"report_interval":{V}}}',
    '{"services":{"sd":{"frequency":{V}}}}', '{"services":{"modbus":{"port":{V}}}}',
    '{"name":{V}}', '{"password":{V}}', '{"max_tx_power":{V}}', '{"enable":{V}}',
    '{"ip":{V},"static_ip":true}', '{"dns":{V}}', '{"port":{V}}', '{"scaler":{V}}',
    '[{"obis":{V},"scaler":{V}}]', '[{"obis":"1.8.1","scaler":{V}}]',
    '{"values":{"1.7.0":{V}}}', '{"values":{V}}', '{"silent":{V}}', '{"time":{V}}',
    '{"encryption_key":{V}}', '{"interface":{V}}', '{"baud_rate":{V}}',
    '{{V}:1}', '{"\\ud800":1}',
]


def e450_reading() -> MeterReading:
    """A push of a meter that sends its own object list (an L+G E450)."""
    meter = VirtualMeter(get_profile("lg-e450"), seed=11, start=ENSOR_MOMENT)
    decoder = DlmsDecoder()
    when = meter.next_push_at()
    assert when is not None
    [reading] = readings(decoder.feed(meter.push(when)))
    return reading


def bodies() -> list[bytes]:
    out = []
    for shape in SHAPES:
        for value in BAD_VALUES:
            text = shape.replace("{V}", value)
            if len(text) <= 8 * 1024 or shape == "{V}":
                out.append(text.encode("utf-8", "surrogatepass"))
    return out


@pytest.fixture
async def quiet_client(aiohttp_client: ClientFactory, device: Device) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(device))


async def test_no_bad_body_gets_a_500_on_any_json_endpoint(quiet_client: TestClient) -> None:  # type: ignore[type-arg]
    table = bodies()
    assert len(table) > 500
    failures = []
    for path, method in JSON_ENDPOINTS:
        for body in table:
            async with quiet_client.request(method, path, data=body, headers={
                    "Content-Type": "application/json"}) as resp:
                text = await resp.text()
                if resp.status >= 500 or not text.strip():
                    failures.append((method, path, body[:60], resp.status, text[:80]))
            assert (await quiet_client.get("/api/v1/settings")).status == 200
    assert failures == []
    assert quiet_client.app[FAULTS].counts == {}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12))
def test_the_body_reader_never_fails_otherwise_than_with_a_message(value: object) -> None:
    raw = json.dumps(value).encode()
    message = ""
    try:
        parsed = parse_json(raw)
    except BodyError as exc:
        message = str(exc)
    else:
        assert json.loads(encode(dumps(parsed))) == json.loads(encode(dumps(parsed)))
    assert message == "" or message.startswith("Invalid JSON")


@pytest.mark.parametrize(("raw", "words"), [
    (b"[" * 100 + b"]" * 100, "nested deeper"),
    (b'{"a":' + b"1" * 5000 + b"}", "digits"),
    (b'{"system":{"name":"\\ud800"}}', "surrogate"),
    (b'{"x":1e999}', "out of range"),
    (b'{"x":NaN}', "not a number"),
])
def test_the_body_reader_says_why(raw: bytes, words: str) -> None:
    with pytest.raises(BodyError, match=words):
        parse_json(raw)


def test_the_encoder_never_fails_on_our_own_data() -> None:
    from types import MappingProxyType  # noqa: PLC0415

    data = {"a": MappingProxyType({"b": (1, 2)}), "c": b"\x01", "d": float("nan"),
            "e": "\ud800", "f": {3}}
    assert json.loads(encode(dumps(data))) == {"a": {"b": [1, 2]}, "c": "01", "d": None,
                                               "e": "\ud800", "f": [3]}


def test_report_objects_of_a_push_with_its_own_object_list_encode() -> None:
    objects = report_objects(e450_reading())
    text = json.dumps(objects)  # the API encodes it with the standard encoder too
    assert json.loads(text)["objects"][0]["push_object_list"][1]["logical_name"] == \
        "0-0:42.0.0"


async def test_report_objects_endpoint_answers_a_dlms_push(quiet_client: TestClient,  # type: ignore[type-arg]
                                                           device: Device) -> None:
    device.link_listening(Interface.MBUS, "test")
    device.on_event(FrameDecoded(e450_reading(), 0), Interface.MBUS)
    resp = await quiet_client.get("/api/v1/report/objects")
    assert resp.status == 200
    assert (await resp.json())["objects"][0]["class"] == 40


async def test_an_unexpected_error_is_the_devices_500_logged_once_per_kind(
        aiohttp_client: ClientFactory, device: Device,
        caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(device)

    async def broken(request: web.Request) -> web.Response:
        raise KeyError("boom")

    app.router.add_get("/broken", broken)
    client = await aiohttp_client(app)
    for _ in range(5):
        resp = await client.get("/broken")
        assert resp.status == 500
        assert "unexpected error" in await resp.text()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert app[FAULTS].counts == {"KeyError in GET /broken": 5}
    assert (await client.get("/api/v1/system")).status == 200


async def test_a_bad_multipart_part_header_is_a_400(quiet_client: TestClient) -> None:  # type: ignore[type-arg]
    body = (b"--XX\r\nContent-Disposition: form-data; name=\"file\"\x01\r\n\r\nabc\r\n"
            b"--XX--\r\n")
    resp = await quiet_client.post("/load", data=body, headers={
        "Content-Type": "multipart/form-data; boundary=XX"})
    assert resp.status == 400, await resp.text()


