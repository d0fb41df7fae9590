"""General ciphering of APDUs with AES-128-GCM (IEC 62056-5-3 security suites 0 and 1).

general-glo-ciphering (0xDB) and general-ded-ciphering (0xDF) carry: the system title
(octet string, 8 bytes), then an octet string holding the security control byte, the
invocation counter (4 bytes), the ciphertext and, when authenticated, a 12-byte tag.

Security control: bits 0-3 suite, bit 4 authentication, bit 5 encryption, bit 6 broadcast
key, bit 7 compression. Nonce = system title || invocation counter. With authentication
the additional data is SC || AK (and, authentication only, the plaintext too).

Suite 1 ciphers with the same AES-128-GCM as suite 0 (it differs in key agreement and
signatures, which a push does not use): TINETZ, Salzburg and Vorarlberg Kaifa MA309 meters
send security control 0x21 (suite 1, encryption, no tag). Suite 2 (AES-256) is not read.

Without an authentication key an authenticated frame is still decrypted (the key is
optional on the device): the tag is then not checked and a wrong encryption key shows as a
plaintext that does not parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from meter_protocols.dlms.axdr import AxdrError, AxdrIncomplete, decode_length, encode_length
from meter_protocols.errors import ProtocolError

GLO_CIPHERING = 0xDB
DED_CIPHERING = 0xDF
CIPHERED_TAGS = (GLO_CIPHERING, DED_CIPHERING)

AUTHENTICATION = 0x10
ENCRYPTION = 0x20
BROADCAST = 0x40
COMPRESSION = 0x80
TAG_LENGTH = 12
SUITE_MASK = 0x0F
#: Security suites whose ciphering this module reads (both AES-128-GCM).
SUITES = (0, 1)

_HEX32 = re.compile(r"[0-9A-Fa-f]{32}")


class SecurityError(ProtocolError):
    """Ciphered input that cannot be read."""


class KeyRequiredError(SecurityError):
    """The frame is encrypted and no encryption key is configured."""


class DecryptionError(SecurityError):
    """The key is wrong or the frame was altered (tag mismatch)."""


@dataclass(frozen=True, slots=True)
class DlmsKeys:
    """The keys the device holds for its meter (the meter settings' encryption_key and
    authentication_key). Empty bytes: not set."""

    encryption_key: bytes = b""
    authentication_key: bytes = b""

    def __post_init__(self) -> None:
        for name, key in (("encryption", self.encryption_key),
                          ("authentication", self.authentication_key)):
            if key and len(key) != 16:
                raise ProtocolError(f"{name} key must be 16 bytes, got {len(key)}")

    @classmethod
    def from_hex(cls, encryption_key: str = "", authentication_key: str = "") -> DlmsKeys:
        """From the 32-hex-digit strings of the settings; "" or 32 zeros mean "not set"."""
        return cls(_key(encryption_key, "encryption"), _key(authentication_key,
                                                             "authentication"))

    @property
    def configured(self) -> bool:
        return bool(self.encryption_key)


def _key(text: str, name: str) -> bytes:
    text = text.strip()
    if not text:
        return b""
    if not _HEX32.fullmatch(text):
        raise ProtocolError(f"{name} key must be 32 hexadecimal characters")
    raw = bytes.fromhex(text)
    return b"" if raw == bytes(16) else raw


@dataclass(frozen=True, slots=True)
class CipheredApdu:
    service: int  # 0xDB or 0xDF
    system_title: bytes
    security_control: int
    invocation_counter: int
    ciphertext: bytes  # the (possibly encrypted) APDU, tag excluded
    tag: bytes  # 12 bytes when authenticated, else empty

    @property
    def encrypted(self) -> bool:
        return bool(self.security_control & ENCRYPTION)

    @property
    def authenticated(self) -> bool:
        return bool(self.security_control & AUTHENTICATION)

    @property
    def nonce(self) -> bytes:
        return self.system_title + self.invocation_counter.to_bytes(4, "big")


def ciphered_length(buf: bytes | bytearray, pos: int = 0) -> int:
    """Total length of the ciphered APDU at pos. Raises AxdrIncomplete/AxdrError."""
    view = bytes(buf[pos:pos + 32])
    if not view or view[0] not in CIPHERED_TAGS:
        raise AxdrError("not a ciphered APDU")
    title_len, at = decode_length(view, 1)
    if title_len > 16:
        raise AxdrError(f"system title of {title_len} bytes")
    content_len, at = decode_length(view, at + title_len)
    return at + content_len


def parse_ciphered(apdu: bytes) -> CipheredApdu:
    """Split a ciphered APDU; raises AxdrError (AxdrIncomplete if cut short)."""
    if not apdu or apdu[0] not in CIPHERED_TAGS:
        raise AxdrError("not a ciphered APDU")
    title_len, at = decode_length(apdu, 1)
    if title_len > 16:
        raise AxdrError(f"system title of {title_len} bytes")
    title = apdu[at:at + title_len]
    content_len, at = decode_length(apdu, at + title_len)
    end = at + content_len
    if end > len(apdu):
        raise AxdrIncomplete(f"ciphered content of {content_len} bytes cut off")
    if end < len(apdu):
        raise AxdrError(f"{len(apdu) - end} bytes after the ciphered content")
    if content_len < 5:
        raise AxdrError("ciphered content without security header")
    sc = apdu[at]
    counter = int.from_bytes(apdu[at + 1:at + 5], "big")
    body = apdu[at + 5:end]
    tag = b""
    if sc & AUTHENTICATION:
        if len(body) < TAG_LENGTH:
            raise AxdrError("authenticated content shorter than its tag")
        body, tag = body[:-TAG_LENGTH], body[-TAG_LENGTH:]
    return CipheredApdu(apdu[0], bytes(title), sc, counter, bytes(body), bytes(tag))


def decrypt(apdu: CipheredApdu, keys: DlmsKeys) -> tuple[bytes, bool]:
    """The plaintext APDU and whether its tag was verified.

    Raises KeyRequiredError, DecryptionError, or SecurityError for what suites 0 and 1 do
    not cover (other suites, compression).
    """
    sc = apdu.security_control
    if sc & SUITE_MASK not in SUITES:
        raise SecurityError(f"security suite {sc & SUITE_MASK} is not supported")
    if sc & COMPRESSION:
        raise SecurityError("compressed APDUs are not supported")
    if len(apdu.system_title) != 8:
        raise SecurityError(f"system title of {len(apdu.system_title)} bytes, 8 needed")
    ek, ak = keys.encryption_key, keys.authentication_key
    if not apdu.encrypted:
        if apdu.authenticated and ek and ak:
            _verify(ek, apdu.nonce, bytes((sc,)) + ak + apdu.ciphertext, b"", apdu.tag)
            return apdu.ciphertext, True
        return apdu.ciphertext, False
    if not ek:
        raise KeyRequiredError("frame is encrypted and no encryption key is set")
    if apdu.authenticated and ak:
        return _verify(ek, apdu.nonce, bytes((sc,)) + ak, apdu.ciphertext, apdu.tag), True
    return _ctr(ek, apdu.nonce, apdu.ciphertext), False


def _verify(key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes, tag: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key),
                       modes.GCM(nonce, tag, min_tag_length=TAG_LENGTH)).decryptor()
    decryptor.authenticate_additional_data(aad)
    plain = decryptor.update(ciphertext)
    try:
        return plain + decryptor.finalize()
    except InvalidTag as exc:
        raise DecryptionError("authentication tag does not match: wrong key or altered "
                              "frame") from exc


def _ctr(key: bytes, nonce: bytes, data: bytes) -> bytes:
    """GCM's encryption without its tag: AES-CTR from counter block 2."""
    decryptor = Cipher(algorithms.AES(key), modes.CTR(nonce + b"\x00\x00\x00\x02")).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def encrypt(plaintext: bytes, *, system_title: bytes, invocation_counter: int,
            security_control: int, keys: DlmsKeys, service: int = GLO_CIPHERING) -> bytes:
    """A ciphered APDU as a meter sends it."""
    if service not in CIPHERED_TAGS:
        raise ProtocolError(f"0x{service:02X} is not a ciphering service")
    if len(system_title) != 8:
        raise ProtocolError("the system title has 8 bytes")
    if security_control & COMPRESSION or security_control & SUITE_MASK not in SUITES:
        raise ProtocolError("only security suites 0 and 1 without compression are supported")
    if not 0 <= invocation_counter <= 0xFFFFFFFF:
        raise ProtocolError("invocation counter out of range")
    ek, ak = keys.encryption_key, keys.authentication_key
    if security_control & (ENCRYPTION | AUTHENTICATION) and not ek:
        raise ProtocolError("ciphering needs an encryption key")
    if security_control & AUTHENTICATION and not ak:
        raise ProtocolError("authentication needs an authentication key")
    nonce = system_title + invocation_counter.to_bytes(4, "big")
    sc = bytes((security_control,))
    if security_control & ENCRYPTION and security_control & AUTHENTICATION:
        sealed = AESGCM(ek).encrypt(nonce, plaintext, sc + ak)
        body = sealed[:len(plaintext)] + sealed[len(plaintext):len(plaintext) + TAG_LENGTH]
    elif security_control & ENCRYPTION:
        body = _ctr(ek, nonce, plaintext)
    elif security_control & AUTHENTICATION:
        body = plaintext + AESGCM(ek).encrypt(nonce, b"", sc + ak + plaintext)[:TAG_LENGTH]
    else:
        body = plaintext
    content = sc + invocation_counter.to_bytes(4, "big") + body
    return (bytes((service,)) + encode_length(len(system_title)) + system_title
            + encode_length(len(content)) + content)


@dataclass(frozen=True, slots=True)
class SecurityState:
    """What the meter's last APDU used. `ciphered` False: sent in clear."""

    ciphered: bool = False
    encrypted: bool = False  # meter.enc_en
    authenticated: bool = False  # meter.auth_en: the frame carries an authentication tag
    verified: bool = False  # the tag was checked with the authentication key
    security_control: int | None = None
    system_title: bytes = b""
    invocation_counter: int | None = None
