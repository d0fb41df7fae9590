"""Every settings endpoint over real HTTP, table-driven: valid bodies are answered with the
new settings and survive a restart; invalid ones get 400 (413 when too large) and leave the
stored file byte-identical."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from emulator.api import MAX_BODY, create_app
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device, doc_json_blocks, key_paths

# endpoint -> settings section (the file DATA_DIR/settings/<section>.json)
ENDPOINTS = {
    "/api/v1/settings": "settings",
    "/api/v1/wifi/sta/settings": "wifi",
    "/api/v1/eth/settings": "eth",
}

# (endpoint, method, body, what GET must show afterwards: {dotted path: value})
VALID: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("/api/v1/settings", "PUT", {"system": {"name": "Plant A"}}, {"system.name": "Plant A"}),
    ("/api/v1/settings", "PUT", {"system": {"protection": False, "password": "pw123456"}},
     {"system.protection": False}),
    ("/api/v1/settings", "PUT", {"services": {"sd": {"enable": True, "frequency": 60}}},
     {"services.sd.enable": True, "services.sd.frequency": 60,
      "services.sd.recorder_mode": False}),
    ("/api/v1/settings", "PUT", {"system": {"use_dhcp_ntp_server": False,
                                            "custom_ntp_server": "pool.ntp.org",
                                            "use_custom_ntp_server": True},
                                 "services": {"low_power_report": True}},
     {"system.custom_ntp_server": "pool.ntp.org", "system.use_custom_ntp_server": True,
      "services.low_power_report": True}),
    ("/api/v1/settings", "PUT", {"services": {"modbus": {"enable": True, "port": 1502}}},
     {"services.modbus.port": 1502}),
    ("/api/v1/settings", "PUT", {"services": {"berry": {"auto_run": True, "run_delay": 60}}},
     {"services.berry.run_delay": 60}),
    ("/api/v1/settings", "PUT", {"services": {"report_interval": 3600, "log": True,
                                              "cloud": {"stromkonto": True}}},
     {"services.report_interval": 3600, "services.cloud.stromkonto": True,
      "services.cloud.what_watt": True}),
    ("/api/v1/settings", "POST", {"system": {"name": "only this"}},
     {"system.name": "only this", "services.report_interval": 30,
      "system.host_name": "whatwatt_9F8124"}),
    ("/api/v1/settings", "PUT", {"system": {"host_name": "cellar-meter"}},
     {"system.host_name": "cellar-meter"}),
    ("/api/v1/wifi/sta/settings", "POST", {"enable": True, "name": "MyWiFiNetwork",
                                           "password": "MySecurePassword123"},
     {"name": "MyWiFiNetwork", "static_ip": False, "max_tx_power": 17}),
    ("/api/v1/wifi/sta/settings", "PUT", {"static_ip": True, "ip": "192.168.1.100",
                                          "netmask": "255.255.255.0",
                                          "gateway": "192.168.1.1", "dns": "8.8.8.8"},
     {"ip": "192.168.1.100", "name": "HomeNet"}),
    ("/api/v1/wifi/sta/settings", "PUT", {"max_tx_power": 10.5}, {"max_tx_power": 10.5}),
    ("/api/v1/wifi/sta/settings", "PUT", {"max_power": 20}, {"max_tx_power": 20}),
    ("/api/v1/wifi/sta/settings", "POST", {"enable": True, "name": "OpenWiFi"},
     {"enable": True, "name": "OpenWiFi"}),
    ("/api/v1/eth/settings", "PUT", {"enable": False}, {"enable": False}),
    ("/api/v1/eth/settings", "POST", {"enable": True, "static_ip": True,
                                      "ip": "192.168.1.201", "netmask": "255.255.255.0",
                                      "gateway": "192.168.1.1", "dns": "8.8.8.8"},
     {"static_ip": True, "dns": "8.8.8.8"}),
    ("/api/v1/eth/settings", "POST", {}, {"enable": True, "static_ip": False}),
]

# (endpoint, method, raw body, words the 400 answer must contain)
INVALID: list[tuple[str, str, bytes, str]] = [
    ("/api/v1/settings", "PUT", b'{"system": {"host_name": "bad name!"}}', "host_name"),
    ("/api/v1/settings", "PUT", b'{"system": {"name": "' + b"x" * 32 + b'"}}', "name"),
    ("/api/v1/settings", "PUT", b'{"system": {"password": "' + b"p" * 32 + b'"}}',
     "password"),
    ("/api/v1/settings", "PUT", b'{"system": {"custom_ntp_server": "no such host!"}}',
     "custom_ntp_server"),
    ("/api/v1/settings", "PUT", b'{"system": {"protection": "yes"}}', "protection"),
    ("/api/v1/settings", "PUT", b'{"services": {"report_interval": 0}}', "report_interval"),
    ("/api/v1/settings", "PUT", b'{"services": {"report_interval": 3601}}',
     "report_interval"),
    ("/api/v1/settings", "PUT", b'{"services": {"sd": {"frequency": 1441}}}', "frequency"),
    ("/api/v1/settings", "PUT", b'{"services": {"modbus": {"port": 0}}}', "port"),
    ("/api/v1/settings", "PUT", b'{"services": {"modbus": {"port": 65536}}}', "port"),
    ("/api/v1/settings", "PUT", b'{"services": {"berry": {"run_delay": 59}}}', "run_delay"),
    ("/api/v1/settings", "PUT", b'{"services": {"sd": true}}', "sd"),
    ("/api/v1/settings", "POST", b'{"services": {"cloud": {"mystrom": 1}}}', "mystrom"),
    ("/api/v1/wifi/sta/settings", "PUT", b'{"name": ""}', "name"),
    ("/api/v1/wifi/sta/settings", "PUT", b'{"name": "' + b"n" * 33 + b'"}', "name"),
    ("/api/v1/wifi/sta/settings", "PUT", b'{"password": "short"}', "password"),
    ("/api/v1/wifi/sta/settings", "PUT", b'{"password": "' + b"z" * 64 + b'"}', "password"),
    ("/api/v1/wifi/sta/settings", "PUT", b'{"static_ip": true}', "required"),
    ("/api/v1/wifi/sta/settings", "PUT", b'{"max_tx_power": 21.5}', "max_tx_power"),
    ("/api/v1/wifi/sta/settings", "PUT", b'{"max_tx_power": 3.3}', "multiple"),
    ("/api/v1/wifi/sta/settings", "POST", b'{"enable": true}', "name"),
    ("/api/v1/eth/settings", "PUT", b'{"static_ip": true, "ip": "192.168.1.9"}', "required"),
    ("/api/v1/eth/settings", "PUT", b'{"dns": "8.8.8"}', "dns"),
    ("/api/v1/eth/settings", "PUT", b'{"enable": null}', "enable"),
]
# Bodies every endpoint refuses the same way.
for _path in ENDPOINTS:
    for _method in ("POST", "PUT"):
        INVALID += [
            (_path, _method, b"", "Invalid JSON"),
            (_path, _method, b"{", "Invalid JSON"),
            (_path, _method, b"{'single': 'quotes'}", "Invalid JSON"),
            (_path, _method, b'{"a": 1} trailing', "Invalid JSON"),
            (_path, _method, b"\xff\xfe{}", "Invalid JSON"),
            (_path, _method, b"[1, 2]", "expected a JSON object"),
            (_path, _method, b'"text"', "expected a JSON object"),
            (_path, _method, b"null", "expected a JSON object"),
        ]

# A valid change per endpoint, so that there is a file to keep identical.
SEED = {
    "/api/v1/settings": {"system": {"name": "before"}},
    "/api/v1/wifi/sta/settings": {"name": "HomeNet", "password": "before-pass"},
    "/api/v1/eth/settings": {"enable": False},
}


def dotted(data: Any, path: str) -> Any:
    for key in path.split("."):
        data = data[key]
    return data


def stored(tmp_path: Path, path: str) -> bytes:
    return (tmp_path / "settings" / f"{ENDPOINTS[path]}.json").read_bytes()


@pytest.mark.parametrize(("path", "method", "body", "expected"), VALID,
                         ids=[f"{m} {p} {i}" for i, (p, m, _, _) in enumerate(VALID)])
async def test_valid_settings_are_applied_and_survive_a_restart(
        aiohttp_client: ClientFactory, client: TestClient, tmp_path: Path,  # type: ignore[type-arg]
        clock: ManualClock, path: str, method: str, body: Any,
        expected: dict[str, Any]) -> None:
    response = await client.request(method, path, json=body)
    assert response.status == 200, await response.text()
    answer = await response.json()
    for key, value in expected.items():
        assert dotted(answer, key) == value
    assert answer == await (await client.get(path)).json()
    assert "password" not in json.dumps(answer)
    # A restart: a new device and application on the same data dir.
    restarted = await aiohttp_client(create_app(build_device(tmp_path, clock)))
    assert await (await restarted.get(path)).json() == answer


@pytest.mark.parametrize(("path", "method", "body", "words"), INVALID,
                         ids=[f"{m} {p} {i}" for i, (p, m, _, _) in enumerate(INVALID)])
async def test_invalid_settings_get_400_and_change_nothing(
        client: TestClient, tmp_path: Path, path: str, method: str,  # type: ignore[type-arg]
        body: bytes, words: str) -> None:
    seeded = await client.put(path, json=SEED[path])
    assert seeded.status == 200
    before_file, before_get = stored(tmp_path, path), await (await client.get(path)).json()
    response = await client.request(method, path, data=body,
                                    headers={"Content-Type": "application/json"})
    assert response.status == 400
    text = await response.text()
    assert words in text
    assert "before-pass" not in text
    assert stored(tmp_path, path) == before_file
    assert await (await client.get(path)).json() == before_get


@pytest.mark.parametrize("path", list(ENDPOINTS))
async def test_bodies_over_8_kB_get_413_and_change_nothing(client: TestClient,  # type: ignore[type-arg]
                                                           tmp_path: Path, path: str) -> None:
    await client.put(path, json=SEED[path])
    before = stored(tmp_path, path)
    padding = "x" * MAX_BODY
    response = await client.put(path, data=json.dumps({"padding": padding}),
                                headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert await response.text() == "Content too large"
    assert stored(tmp_path, path) == before
    # 8 kB exactly is still read (and this one is valid: unknown fields are ignored).
    exact = json.dumps({"p": ""}).encode()
    exact = exact[:-2] + b"x" * (MAX_BODY - len(exact)) + exact[-2:]
    assert len(exact) == MAX_BODY
    assert (await client.put(path, data=exact)).status == 200


async def test_the_documented_settings_example_can_be_sent_back(client: TestClient) -> None:  # type: ignore[type-arg]
    example = doc_json_blocks("50-settings/settings.md")[0]
    response = await client.post("/api/v1/settings", json=example)
    assert response.status == 200
    assert await response.json() == example


async def test_get_shows_every_documented_field(client: TestClient) -> None:  # type: ignore[type-arg]
    example = doc_json_blocks("50-settings/settings.md")[0]
    body = await (await client.get("/api/v1/settings")).json()
    assert key_paths(body) == key_paths(example)
    wifi = await (await client.get("/api/v1/wifi/sta/settings")).json()
    assert set(wifi) == set(doc_json_blocks("50-settings/wifi-setup.md")[0])
    eth = await (await client.get("/api/v1/eth/settings")).json()
    assert eth == doc_json_blocks("50-settings/ethernet.md")[0]  # the factory values


async def test_delete_wifi_settings(client: TestClient, tmp_path: Path) -> None:  # type: ignore[type-arg]
    response = await client.delete("/api/v1/wifi/sta/settings")
    assert response.status == 204
    assert await (await client.get("/api/v1/wifi/sta/settings")).json() == {
        "enable": False, "name": "", "static_ip": False, "ip": "0.0.0.0",
        "netmask": "0.0.0.0", "gateway": "0.0.0.0", "dns": "0.0.0.0", "max_tx_power": 17}
    system = await (await client.get("/api/v1/system")).json()
    assert system["wifi"]["status"] == "Disabled"
    assert (await client.delete("/api/v1/settings")).status == 405
    assert (await client.delete("/api/v1/eth/settings")).status == 405


async def test_power_save_is_refused_while_ethernet_is_up(
        aiohttp_client: ClientFactory, tmp_path: Path, clock: ManualClock) -> None:
    device = build_device(tmp_path, clock, ethernet_cable=True)
    client = await aiohttp_client(create_app(device))
    response = await client.put("/api/v1/settings", json={"system": {"power_save": True}})
    assert response.status == 400
    assert "Ethernet" in await response.text()
    assert not (tmp_path / "settings" / "settings.json").exists()
    await client.put("/api/v1/eth/settings", json={"enable": False})
    response = await client.put("/api/v1/settings", json={"system": {"power_save": True}})
    assert response.status == 200
