"""The documentation's ECDSA P-256 chain (secure MQTT page: a root CA, the broker's server
certificate, the meter's client certificate), made with `cryptography` for the tests."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

KEY_PASSWORD = "s3cret-Key"


@dataclass(frozen=True)
class Pem:
    cert: str
    key: str  # unencrypted, "BEGIN EC PRIVATE KEY" as openssl ecparam writes it

    def encrypted_key(self, password: str = KEY_PASSWORD) -> str:
        key = serialization.load_pem_private_key(self.key.encode(), None)
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(password.encode())).decode()


def _name(ou: str, cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lab"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _issue(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
           issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
           sans: list[x509.GeneralName] | None = None) -> str:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class Chain:
    ca: Pem
    server: Pem  # CN mqtt.lab.local and SAN 127.0.0.1: matches a broker at 127.0.0.1
    server_wrong_name: Pem  # CN mqtt.lab.local only, as in the documentation
    client: Pem  # CN whatwatt-001
    stranger: Pem  # a client certificate from another CA

    def write(self, folder: Path) -> dict[str, Path]:
        """The broker's files (ca.crt, server.crt/key, wrong.crt/key) in `folder`."""
        files = {"ca": ("ca.crt", self.ca.cert), "server_cert": ("server.crt", self.server.cert),
                 "server_key": ("server.key", self.server.key),
                 "wrong_cert": ("wrong.crt", self.server_wrong_name.cert),
                 "wrong_key": ("wrong.key", self.server_wrong_name.key)}
        out = {}
        for name, (file, text) in files.items():
            path = folder / file
            path.write_text(text)
            out[name] = path
        return out


@cache
def chain() -> Chain:
    curve = ec.SECP256R1()
    ca_key = ec.generate_private_key(curve)
    ca_name = _name("IoT", "Lab ECC Root CA")
    ca = Pem(_issue(ca_name, ca_key, ca_name, ca_key, ca=True), _key_pem(ca_key))

    def leaf(ou: str, cn: str, sans: list[x509.GeneralName] | None = None) -> Pem:
        key = ec.generate_private_key(curve)
        return Pem(_issue(_name(ou, cn), key, ca_name, ca_key, sans=sans), _key_pem(key))

    other_key = ec.generate_private_key(curve)
    other_ca = _name("Elsewhere", "Other Root CA")
    stranger_key = ec.generate_private_key(curve)
    stranger = Pem(_issue(_name("Metering", "whatwatt-001"), stranger_key, other_ca, other_key),
                   _key_pem(stranger_key))
    return Chain(
        ca=ca,
        server=leaf("IoT", "mqtt.lab.local", [x509.DNSName("mqtt.lab.local"),
                                             x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
        server_wrong_name=leaf("IoT", "mqtt.lab.local"),
        client=leaf("Metering", "whatwatt-001"),
        stranger=stranger,
    )
