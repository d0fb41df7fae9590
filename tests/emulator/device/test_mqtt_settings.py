"""The MQTT settings section: the documented fields and ranges, secrets shown as lengths,
PUT keeping secrets, null deleting, and the checks of the PEM material."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.device.errors import SettingsError
from emulator.device.settings import sections
from emulator.device.settings.mqtt import MqttSettings, parse_url
from emulator.device.settings.registry import DeviceSettings
from tests.emulator.pki import KEY_PASSWORD, chain
from tests.support import device_settings

MQTT = sections.MQTT


@pytest.fixture
def settings(tmp_path: Path) -> DeviceSettings:
    return device_settings(tmp_path)


def mutual_tls(**client: Any) -> dict[str, Any]:
    pki = chain()
    body: dict[str, Any] = {
        "enable": True, "url": "mqtts://192.168.99.186:8883", "skip_cn_check": True,
        "client_id": "whatwatt-001",
        "publish": {"topic": "lab/energy/whatwatt-001", "template": '{"P_In": ${1_7_0}}'},
        "broker": {"certificate": pki.ca.cert},
        "client": {"certificate": pki.client.cert, "key": pki.client.key},
    }
    body["client"].update(client)
    return body


def test_factory_values_have_the_documented_get_shape(settings: DeviceSettings) -> None:
    assert settings.public(MQTT) == {
        "enable": False, "url": "", "username": "", "client_id": "", "skip_cn_check": False,
        "publish": {"topic": "", "template": ""}, "password_len": 0}
    assert list(settings.public(MQTT)) [-1] == "password_len"  # as in the example


def test_get_hides_password_key_and_key_password(settings: DeviceSettings) -> None:
    body = mutual_tls(key=chain().client.encrypted_key(), key_password=KEY_PASSWORD)
    body.update(username="demo", password="hunter22")
    public = settings.post(MQTT, body)
    text = repr(public)
    assert "hunter22" not in text and "PRIVATE KEY" not in text and KEY_PASSWORD not in text
    assert public["password_len"] == 8
    assert public["client"] == {"certificate": chain().client.cert,
                                "key_len": len(body["client"]["key"]),
                                "key_password_len": len(KEY_PASSWORD)}
    assert public["broker"] == {"certificate": chain().ca.cert}


def test_put_keeps_secrets_post_replaces(settings: DeviceSettings) -> None:
    settings.post(MQTT, {"url": "mqtt://10.0.0.2", "username": "u", "password": "pw"})
    assert settings.put(MQTT, {"publish": {"topic": "t"}})["password_len"] == 2
    assert settings.mqtt.password == "pw" and settings.mqtt.topic == "t"
    # Sending back what GET gave (with password_len) changes nothing.
    settings.put(MQTT, settings.public(MQTT))
    assert settings.mqtt.password == "pw"
    replaced = settings.post(MQTT, {"url": "mqtt://10.0.0.2"})
    assert replaced["password_len"] == 0 and replaced["username"] == ""


def test_null_deletes_certificates_and_keys(settings: DeviceSettings) -> None:
    settings.post(MQTT, mutual_tls())
    settings.put(MQTT, {"broker": {"certificate": None}})
    assert settings.mqtt.broker_certificate is None
    assert "broker" not in settings.public(MQTT)
    settings.put(MQTT, {"client": {"certificate": None, "key": None}})
    assert settings.mqtt.client_certificate is None and settings.mqtt.client_key is None
    assert "client" not in settings.public(MQTT)


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "http://broker"}, "url"),
    ({"url": "mqtt://"}, "url"),
    ({"url": "mqtt://broker:0"}, "url"),
    ({"url": "mqtt://broker:65536"}, "url"),
    ({"url": "mqtt://broker:1883/x"}, "url"),
    ({"url": "mqtt://[::zz]:1883"}, "url"),
    ({"url": "mqtt://" + "b" * 121}, "url"),  # 128 characters
    ({"username": "u" * 128}, "username"),
    ({"password": "p" * 128}, "password"),
    ({"client_id": "c" * 64}, "client_id"),
    ({"publish": {"topic": "t" * 128}}, "publish.topic"),
    ({"publish": {"template": "x" * 1024}}, "publish.template"),
    ({"client": {"key_password": "k" * 256}}, "client.key_password"),
    ({"enable": "yes"}, "enable"),
    ({"skip_cn_check": 1}, "skip_cn_check"),
    ({"broker": {"certificate": "-----BEGIN CERTIFICATE-----\nnope\n"}}, "broker.certificate"),
    ({"broker": {"certificate": 5}}, "broker.certificate"),
])
def test_out_of_range_values_are_refused(settings: DeviceSettings, tmp_path: Path,
                                         body: dict[str, Any], field: str) -> None:
    settings.post(MQTT, {"url": "mqtt://10.0.0.2", "password": "pw"})
    stored = (tmp_path / "settings" / "mqtt.json").read_bytes()
    with pytest.raises(SettingsError, match=rf"^{field}: "):
        settings.put(MQTT, body)
    assert (tmp_path / "settings" / "mqtt.json").read_bytes() == stored


def test_the_longest_values_are_accepted(settings: DeviceSettings) -> None:
    settings.post(MQTT, {"url": "mqtt://" + "b" * 120, "username": "u" * 127,
                         "password": "p" * 127, "client_id": "c" * 63,
                         "publish": {"topic": "t" * 127, "template": "x" * 1023}})
    assert settings.public(MQTT)["password_len"] == 127


@pytest.mark.parametrize(("client", "message"), [
    ({"key": None}, "client.key: required with client.certificate"),
    ({"certificate": None}, "client.certificate: required with client.key"),
    ({"key": "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"},
     "client.key: not a PEM private key"),
    ({"key": "__other__"}, "client.key: it does not match client.certificate"),
    ({"key": "__encrypted__"}, "client.key: the key is encrypted, client.key_password is"),
    ({"key": "__encrypted__", "key_password": "wrong"},
     "client.key_password: it does not decrypt client.key"),
    ({"certificate": "__stranger__", "key": "__encrypted__", "key_password": KEY_PASSWORD},
     "client.key: it does not match client.certificate"),
])
def test_client_identity_checks(settings: DeviceSettings, client: dict[str, Any],
                                message: str) -> None:
    pki = chain()
    swap = {"__other__": pki.server.key, "__encrypted__": pki.client.encrypted_key(),
            "__stranger__": pki.stranger.cert}
    client = {k: swap.get(v, v) if isinstance(v, str) else v for k, v in client.items()}
    with pytest.raises(SettingsError) as refused:
        settings.post(MQTT, mutual_tls(**client))
    assert str(refused.value).startswith(message)
    assert settings.mqtt.url == ""  # nothing stored


def test_an_encrypted_key_with_its_password_is_accepted(settings: DeviceSettings) -> None:
    settings.post(MQTT, mutual_tls(key=chain().client.encrypted_key(),
                                   key_password=KEY_PASSWORD))
    assert settings.mqtt.client_key_password == KEY_PASSWORD
    # A password with a key that is not encrypted does no harm.
    settings.put(MQTT, {"client": {"key": chain().client.key}})
    assert settings.mqtt.client_key == chain().client.key


def test_documented_provisioning_payload_is_accepted(settings: DeviceSettings) -> None:
    settings.post(MQTT, mutual_tls())
    view = settings.mqtt
    assert isinstance(view, MqttSettings)
    assert (view.enable, view.skip_cn_check, view.client_id) == (True, True, "whatwatt-001")
    assert view.address is not None and view.address.tls and view.address.port == 8883


def test_settings_survive_a_restart(settings: DeviceSettings, tmp_path: Path) -> None:
    settings.post(MQTT, mutual_tls() | {"password": "pw", "username": "u"})
    again = device_settings(tmp_path)
    assert again.get(MQTT) == settings.get(MQTT)
    assert again.mqtt.client_key == chain().client.key


@pytest.mark.parametrize(("url", "tls", "host", "port"), [
    ("mqtt://10.0.0.2", False, "10.0.0.2", 1883),
    ("mqtts://broker.example.com", True, "broker.example.com", 8883),
    ("mqtts://192.168.99.186:8883", True, "192.168.99.186", 8883),
    ("mqtt://[::1]:1884/", False, "::1", 1884),
    ("mqtt://my_broker:2000", False, "my_broker", 2000),
])
def test_urls(url: str, tls: bool, host: str, port: int) -> None:
    address = parse_url(url)
    assert (address.tls, address.host, address.port) == (tls, host, port)
