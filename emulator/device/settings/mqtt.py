"""/api/v1/mqtt/settings: the MQTT client (manual section 4 and the newer MQTT client page),
its schema, its checks of the PEM material, and its typed view.

GET never shows the password, the client key or its password: `password_len`, `key_len` and
`key_password_len` say how long they are (0: not set). `null` deletes a certificate, the
key or the key password (PUT keeps what the body leaves out, POST sets it back to factory).
Certificates must parse, the client certificate and key go together and must match, and an
encrypted key needs the password that decrypts it; anything else is refused with a message
naming the field, and nothing is stored.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from emulator.device.errors import SettingsError
from emulator.device.settings.fields import Bool, Group, Json, Schema, Text

DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}

_URL = re.compile(r"(mqtts?)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?/?")


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    tls: bool
    host: str  # an IPv6 address without its brackets
    port: int


def parse_url(url: str) -> BrokerAddress:
    """`mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]` (default ports 1883 and 8883); the
    host is a name, an IPv4 address or an IPv6 address in brackets."""
    match = _URL.fullmatch(url)
    if match is None:
        raise ValueError("expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    scheme, host, port_text = match.groups()
    if host.startswith("["):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValueError(f"{host!r} is not an IPv6 address") from exc
    port = int(port_text) if port_text else DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} out of range 1..65535")
    return BrokerAddress(scheme == "mqtts", host, port)


@dataclass(frozen=True, slots=True)
class BrokerUrl(Text):
    """Empty (no broker yet) or a broker URL that parse_url accepts."""

    def check(self, value: Any, path: str) -> str:
        text = Text.check(self, value, path)
        if text:
            try:
                parse_url(text)
            except ValueError as exc:
                raise SettingsError(f"{path}: {exc}") from exc
        return text


@dataclass(frozen=True, slots=True)
class PemCertificates(Text):
    """One or more PEM certificates (a chain); `null` or "" means none."""

    default: str | None = None  # type: ignore[assignment]
    nullable: bool = True

    def check(self, value: Any, path: str) -> str | None:  # type: ignore[override]
        text = Text.check(self, value, path)
        if not text.strip():
            return None
        try:
            x509.load_pem_x509_certificates(text.encode())
        except ValueError as exc:
            raise SettingsError(f"{path}: not a PEM certificate ({exc})") from exc
        return text


@dataclass(frozen=True, slots=True)
class Secret(Text):
    """A write-only text (the key, its password); `null` or "" means none."""

    default: str | None = None  # type: ignore[assignment]
    nullable: bool = True
    secret: bool = True

    def check(self, value: Any, path: str) -> str | None:  # type: ignore[override]
        return Text.check(self, value, path) or None


def _load_key(pem: str, password: str | None) -> Any:
    """The client key, decrypted with its password if it is encrypted."""
    data = pem.encode()
    encrypted = b"ENCRYPTED" in data
    try:
        return serialization.load_pem_private_key(
            data, password.encode() if encrypted and password else None)
    except TypeError as exc:  # encrypted and no password
        raise SettingsError(
            "client.key: the key is encrypted, client.key_password is required") from exc
    except ValueError as exc:
        if encrypted and password:
            raise SettingsError("client.key_password: it does not decrypt client.key") from exc
        raise SettingsError(f"client.key: not a PEM private key ({exc})") from exc
    except Exception as exc:  # an unsupported key type is bad input too
        raise SettingsError(f"client.key: cannot be used ({exc})") from exc


def _public_key_der(key: Any) -> bytes:
    der: bytes = key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def check_client_identity(data: Json) -> None:
    """The client certificate and key go together (mutual TLS), the key decrypts, and the
    key is the certificate's."""
    client = data["client"]
    certificate, key = client["certificate"], client["key"]
    if certificate is None and key is None:
        return
    if certificate is None:
        raise SettingsError("client.certificate: required with client.key")
    if key is None:
        raise SettingsError("client.key: required with client.certificate")
    private = _load_key(key, client["key_password"])
    leaf = x509.load_pem_x509_certificates(certificate.encode())[0]
    if _public_key_der(private.public_key()) != _public_key_der(leaf.public_key()):
        raise SettingsError("client.key: it does not match client.certificate")


def _public(data: Json) -> Json:
    """GET in the documented example's order (password_len last); the certificate groups
    appear once something is set in them (the example, with none set, has neither)."""
    out: Json = {key: data[key] for key in ("enable", "url", "username", "client_id",
                                            "skip_cn_check")}
    out["publish"] = {"topic": data["publish"]["topic"],
                      "template": data["publish"]["template"]}
    broker, client = data["broker"], data["client"]
    if broker["certificate"] is not None:
        out["broker"] = {"certificate": broker["certificate"]}
    if any(client[key] is not None for key in ("certificate", "key", "key_password")):
        out["client"] = {"certificate": client["certificate"],
                         "key_len": len(client["key"] or ""),
                         "key_password_len": len(client["key_password"] or "")}
    out["password_len"] = len(data["password"])
    return out


@dataclass(frozen=True, slots=True)
class MqttSchema(Schema):
    def public(self, data: Json) -> Json:
        return _public(data)


MQTT_SETTINGS: Final = MqttSchema({
    "enable": Bool(False),
    "url": BrokerUrl("", max_length=127),
    "username": Text("", max_length=127),
    "password": Text("", max_length=127, secret=True, length_key="password_len"),
    "client_id": Text("", max_length=63),
    "skip_cn_check": Bool(False),
    "publish": Group(fields={
        "topic": Text("", max_length=127),
        "template": Text("", max_length=1023),
    }),
    "broker": Group(fields={"certificate": PemCertificates(max_length=8192)}),
    "client": Group(fields={
        "certificate": PemCertificates(max_length=8192),
        "key": Secret(max_length=8192, length_key="key_len"),
        "key_password": Secret(max_length=255, length_key="key_password_len"),
    }),
}, checks=(check_client_identity,))


# --- the typed view ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MqttSettings:
    """/api/v1/mqtt/settings as the MQTT client reads it."""

    enable: bool
    url: str
    username: str
    password: str
    client_id: str
    skip_cn_check: bool
    topic: str
    template: str
    broker_certificate: str | None
    client_certificate: str | None
    client_key: str | None
    client_key_password: str | None

    @property
    def address(self) -> BrokerAddress | None:
        """Where the broker is; None while no URL is set."""
        return parse_url(self.url) if self.url else None

    @classmethod
    def from_json(cls, data: Json) -> MqttSettings:
        publish, broker, client = data["publish"], data["broker"], data["client"]
        return cls(
            enable=bool(data["enable"]), url=str(data["url"]),
            username=str(data["username"]), password=str(data["password"]),
            client_id=str(data["client_id"]), skip_cn_check=bool(data["skip_cn_check"]),
            topic=str(publish["topic"]), template=str(publish["template"]),
            broker_certificate=broker["certificate"],
            client_certificate=client["certificate"], client_key=client["key"],
            client_key_password=client["key_password"])
