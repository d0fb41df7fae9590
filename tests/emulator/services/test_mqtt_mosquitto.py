"""The MQTT publisher against Debian's mosquitto, configured as the documentation's secure
MQTT page does: the ECDSA P-256 chain, `require_certificate true`, the client's identity as
its user name; plus a listener with a password file, and a plain one for the test's own
subscriber."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.device.core import Device
from emulator.device.service_status import MQTT, ServiceState
from emulator.device.settings import sections
from emulator.device.system_info import system_info
from tests.conftest import program
from tests.emulator.pki import KEY_PASSWORD, chain
from tests.emulator.services.mqtt_support import (
    HOST,
    Mosquitto,
    QuickPublisher,
    free_port,
    mqtt_settings,
    pumping,
    subscriber,
    wait_mqtt,
)
from tests.support import ManualClock, build_device


@dataclass
class Ports:
    plain: int  # anonymous: the test's subscriber
    login: int  # user name and password
    tls: int  # mutual TLS, server certificate for 127.0.0.1
    tls_wrong_name: int  # mutual TLS, server certificate for mqtt.lab.local only


def write_config(folder: Path, ports: Ports) -> Path:
    files = chain().write(folder)
    passwords = folder / "passwd"
    passwords.touch()
    subprocess.run([program("mosquitto_passwd"), "-b", str(passwords), "whatwatt",
                    "right-password"], check=True, capture_output=True)

    def tls(port: int, cert: str, key: str) -> str:
        return (f"listener {port} {HOST}\ncafile {files['ca']}\ncertfile {files[cert]}\n"
                f"keyfile {files[key]}\nrequire_certificate true\n"
                "use_identity_as_username true\nallow_anonymous false\n")

    config = folder / "mosquitto.conf"
    config.write_text(
        "per_listener_settings true\npersistence false\nuser root\nlog_dest stderr\n"
        "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        f"listener {ports.plain} {HOST}\nallow_anonymous true\n"
        f"listener {ports.login} {HOST}\nallow_anonymous false\npassword_file {passwords}\n"
        + tls(ports.tls, "server_cert", "server_key")
        + tls(ports.tls_wrong_name, "wrong_cert", "wrong_key"))
    return config


def mosquitto_program() -> str:
    """Debian puts the broker in /usr/sbin, which a user's PATH may lack."""
    sbin = Path("/usr/sbin/mosquitto")
    if shutil.which("mosquitto") is None and sbin.exists():
        return str(sbin)
    return program("mosquitto")


@pytest.fixture
async def mosquitto(tmp_path: Path) -> AsyncIterator[tuple[Mosquitto, Ports]]:
    path = mosquitto_program()
    ports = Ports(free_port(), free_port(), free_port(), free_port())
    broker = Mosquitto(path, write_config(tmp_path, ports))
    await broker.start()
    try:
        yield broker, ports
    finally:
        await broker.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def device(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Device]:
    device = build_device(tmp_path / "device", clock)
    service = QuickPublisher(device)
    await service.start()
    yield device
    await service.stop()


def mutual_tls(port: int, **client: Any) -> dict[str, Any]:
    pki = chain()
    identity = {"certificate": pki.client.cert, "key": pki.client.key} | client
    return mqtt_settings(port, "mqtts", broker={"certificate": pki.ca.cert}, client=identity)


async def received(device: Device, clock: ManualClock, ports: Ports) -> dict[str, Any]:
    async with subscriber(ports.plain, "lab/#") as sub, pumping(device, clock):
        body: dict[str, Any] = await sub.next_json()
    return body


async def test_login_with_user_name_and_password(mosquitto: tuple[Mosquitto, Ports],
                                                 device: Device, clock: ManualClock) -> None:
    _, ports = mosquitto
    await device.settings.apost(sections.MQTT, mqtt_settings(
        ports.login, username="whatwatt", password="right-password"))
    body = await received(device, clock, ports)
    assert body["sys_id"] == "A842E39F8124" and body["x"] == "${nope}"


async def test_mutual_tls_with_the_documented_chain(mosquitto: tuple[Mosquitto, Ports],
                                                    device: Device, clock: ManualClock) -> None:
    broker, ports = mosquitto
    await device.settings.apost(sections.MQTT, mutual_tls(ports.tls))
    body = await received(device, clock, ports)
    assert body["sys_id"] == "A842E39F8124"
    assert system_info(device)["clouds"]["mqtc"] == {"enabled": True, "connected": True}
    # The broker took the client certificate's name as the user name.
    assert any("whatwatt-001" in line and "u'whatwatt-001'" in line for line in broker.log)


async def test_mutual_tls_with_an_encrypted_key(mosquitto: tuple[Mosquitto, Ports],
                                                device: Device, clock: ManualClock) -> None:
    _, ports = mosquitto
    await device.settings.apost(sections.MQTT, mutual_tls(
        ports.tls, key=chain().client.encrypted_key(), key_password=KEY_PASSWORD))
    assert (await received(device, clock, ports))["sys_id"] == "A842E39F8124"


async def test_a_server_name_that_does_not_match_needs_skip_cn_check(
        mosquitto: tuple[Mosquitto, Ports], device: Device, clock: ManualClock) -> None:
    _, ports = mosquitto
    await device.settings.apost(sections.MQTT, mutual_tls(ports.tls_wrong_name))
    await wait_mqtt(device, ServiceState.RETRYING, failures=2)
    detail = device.services.get(MQTT).detail
    assert "TLS" in detail and "127.0.0.1" in detail
    await device.settings.aput(sections.MQTT, {"skip_cn_check": True})
    assert (await received(device, clock, ports))["sys_id"] == "A842E39F8124"


async def test_a_broker_certificate_from_another_ca_is_refused(
        mosquitto: tuple[Mosquitto, Ports], device: Device) -> None:
    _, ports = mosquitto
    body = mutual_tls(ports.tls, skip_cn_check=True)
    body["broker"] = {"certificate": chain().stranger.cert}  # not the broker's CA
    await device.settings.apost(sections.MQTT, body)
    await wait_mqtt(device, ServiceState.RETRYING, failures=2)
    assert "certificate verify failed" in device.services.get(MQTT).detail
    assert system_info(device)["clouds"]["mqtc"]["connected"] is False


async def test_publishing_resumes_after_mosquitto_is_killed_and_restarted(
        mosquitto: tuple[Mosquitto, Ports], device: Device, clock: ManualClock) -> None:
    broker, ports = mosquitto
    await device.settings.apost(sections.MQTT, mqtt_settings(
        ports.login, username="whatwatt", password="right-password"))
    await received(device, clock, ports)
    await broker.stop(kill=True)
    await wait_mqtt(device, ServiceState.RETRYING)
    await broker.start()
    assert (await received(device, clock, ports))["sys_id"] == "A842E39F8124"
    assert device.services.get(MQTT).state is ServiceState.RUNNING


async def test_a_client_certificate_the_broker_does_not_trust_is_refused(
        mosquitto: tuple[Mosquitto, Ports], device: Device) -> None:
    _, ports = mosquitto
    stranger = chain().stranger
    await device.settings.apost(sections.MQTT, mutual_tls(
        ports.tls, certificate=stranger.cert, key=stranger.key))
    await wait_mqtt(device, ServiceState.RETRYING, failures=1)
    assert "client certificate" in device.services.get(MQTT).detail
    assert system_info(device)["clouds"]["mqtc"]["connected"] is False
