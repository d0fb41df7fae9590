"""HTTP authentication, required on every request while `system.protection` is on and a
password is set (/api/v1/settings).

- Digest, as firmware 1.10 and later: `WWW-Authenticate: Digest realm="whatwatt-9F8124",
  qop="auth", algorithm=MD5-sess, nonce=..., opaque=...`. The realm is the device's host
  name as it shows on the network (system.host_name with `_` written `-`). Answers with
  algorithm MD5-sess or MD5 (what digest-fetch and other clients send whatever is
  offered) are accepted; qop must be `auth`. The user name is not used (the device has one
  password and no users): any name is accepted, the docs use an empty one.
- Nonces are stateless (a time stamp and an HMAC under a key made at start-up) and live
  NONCE_LIFETIME seconds. A correct answer with an expired nonce, a nonce of an earlier
  run, or a repeated (nonce, nc) pair gets 401 with a fresh challenge and `stale=true`, so
  clients retry without asking for the password again.
- The nc values used with a nonce are remembered for the nonce's whole life, for at most
  MAX_NONCES nonces. When the table is full the nonce issued earliest is forgotten and no
  nonce issued at or before it is accepted any more (`_floor`): a captured answer can
  never be replayed, and memory stays bounded; a client whose nonce was forgotten gets a
  stale challenge and answers the new nonce.
- "Credentials refused" is logged once per verdict and then counted (QuietLog).
- Basic, as earlier firmware: `WWW-Authenticate: Basic realm="..."`, password checked,
  user name ignored.
- `--auth digest|basic|both`: which schemes are offered and accepted; `both` (default)
  sends the Digest challenge first, then the Basic one.

Passwords and answers are compared in constant time (hmac.compare_digest); no credential
is ever logged or echoed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from enum import Enum
from typing import Final

from aiohttp import web

from emulator.api.common import API_HEADERS, ERROR_BODIES
from emulator.device.core import Device
from emulator.device.settings import sections
from emulator.runtime.logs import QuietLog, device_log

MODES = ("digest", "basic", "both")
#: Seconds a nonce stays valid.
NONCE_LIFETIME = 300.0
#: Nonces whose used nc values are remembered (replay check), and nc values per nonce.
MAX_NONCES = 1024
MAX_USES_PER_NONCE = 1024

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')
_NONCE = re.compile(r"[0-9a-f]{48}")
_NC = re.compile(r"[0-9a-fA-F]{8}")


class Verdict(Enum):
    OK = "ok"
    DENIED = "denied"
    STALE = "stale"  # the password was right, the nonce is not (any more)


def realm_for(host_name: str) -> str:
    """The Digest/Basic realm: the host name as the device uses it on the network."""
    return host_name.replace("_", "-")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def parse_params(text: str) -> dict[str, str]:
    """The key=value pairs of a Digest header (values quoted or not), keys lower-cased."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None or match.end() == pos:
            break
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out[key] = value
        pos = match.end()
    return out


class Authenticator:
    """Checks credentials against the device's current settings and makes challenges."""

    def __init__(self, device: Device, mode: str = "both",
                 now: Callable[[], float] = time.monotonic) -> None:
        if mode not in MODES:
            raise ValueError(f"auth mode must be one of {', '.join(MODES)}")
        self.device = device
        self.mode = mode
        self.now = now
        self._key = secrets.token_bytes(32)
        self._opaque = secrets.token_hex(16)
        #: nc values used, per nonce still remembered (at most MAX_NONCES).
        self._uses: dict[str, set[str]] = {}
        #: Issue time (ms) of the latest nonce forgotten: none issued before is accepted.
        self._floor = -1
        self._last_issued = -1
        self.refused = QuietLog(device_log("emulator.api", device.identity.device_id),
                                level=logging.INFO, period=60.0, now=now)
        #: The password in force (None while protection is off), kept by a listener on the
        #: system settings, which every change passes: the device's middleware reads this
        #: one attribute on each request instead of the settings.
        self.required = self.password()
        device.settings.subscribe(sections.SYSTEM, self._system_changed)

    # --- what the settings say -----------------------------------------------------------

    def password(self) -> str | None:
        """The password to check, or None while protection is off."""
        system = self.device.settings.system
        if system.protection and system.password:
            return system.password
        return None

    def _system_changed(self, new: object, old: object) -> None:
        self.required = self.password()

    def realm(self) -> str:
        return realm_for(self.device.settings.system.host_name)

    # --- checking --------------------------------------------------------------------------

    def verify(self, request: web.BaseRequest, password: str) -> Verdict:
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "digest" and self.mode in ("digest", "both"):
            return self._verify_digest(request, credentials, password)
        if scheme == "basic" and self.mode in ("basic", "both"):
            return self._verify_basic(credentials, password)
        return Verdict.DENIED

    def _verify_basic(self, credentials: str, password: str) -> Verdict:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True)
        except (binascii.Error, ValueError):
            return Verdict.DENIED
        _, sep, given = decoded.partition(b":")
        if sep and hmac.compare_digest(given, password.encode("utf-8")):
            return Verdict.OK
        return Verdict.DENIED

    def _verify_digest(self, request: web.BaseRequest, credentials: str,
                       password: str) -> Verdict:
        params = parse_params(credentials)
        try:
            user, realm, nonce = params["username"], params["realm"], params["nonce"]
            uri, answer, qop = params["uri"], params["response"], params["qop"]
            nc, cnonce = params["nc"], params["cnonce"]
        except KeyError:
            return Verdict.DENIED
        algorithm = params.get("algorithm", "MD5").upper()
        if (qop.lower() != "auth" or not _NC.fullmatch(nc) or realm != self.realm()
                or uri not in (request.raw_path, request.path_qs)
                or algorithm not in ("MD5", "MD5-SESS")):
            return Verdict.DENIED
        ha1 = _md5(f"{user}:{realm}:{password}")
        if algorithm == "MD5-SESS":
            ha1 = _md5(f"{ha1}:{nonce}:{cnonce}")
        ha2 = _md5(f"{request.method}:{uri}")
        expected = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        if not hmac.compare_digest(expected, answer.lower()):
            return Verdict.DENIED
        # The password was right; now whether this nonce may still be used.
        opaque = params.get("opaque")
        if not self._nonce_fresh(nonce) or (opaque is not None and opaque != self._opaque):
            return Verdict.STALE
        if not self._first_use(nonce, nc.lower()):
            return Verdict.STALE
        return Verdict.OK

    # --- nonces ----------------------------------------------------------------------------

    def _mac(self, issued: str) -> str:
        return hmac.new(self._key, issued.encode(), hashlib.sha256).hexdigest()[:32]

    def new_nonce(self) -> str:
        # Milliseconds, made strictly increasing: every challenge gets its own nonce.
        self._last_issued = max(int(self.now() * 1000), self._last_issued + 1)
        issued = f"{self._last_issued & 0xFFFFFFFFFFFFFFFF:016x}"
        return issued + self._mac(issued)

    def _nonce_fresh(self, nonce: str) -> bool:
        if not _NONCE.fullmatch(nonce):
            return False
        issued, mac = nonce[:16], nonce[16:]
        if not hmac.compare_digest(mac, self._mac(issued)):
            return False
        age = self.now() - int(issued, 16) / 1000
        return age < NONCE_LIFETIME  # issue times run ahead in a burst of challenges

    @staticmethod
    def _issued(nonce: str) -> int:
        return int(nonce[:16], 16)

    def _first_use(self, nonce: str, nc: str) -> bool:
        """Whether (nonce, nc) is new; records it. The nonce is a fresh one of ours."""
        uses = self._uses.get(nonce)
        if uses is None:
            if self._issued(nonce) <= self._floor:
                return False  # forgotten: it may have been used already
            if len(self._uses) >= MAX_NONCES:
                self._forget()
                if self._issued(nonce) <= self._floor:
                    return False
            uses = self._uses[nonce] = set()
        if nc in uses or len(uses) >= MAX_USES_PER_NONCE:
            return False
        uses.add(nc)
        return True

    def _forget(self) -> None:
        """Make room: drop expired nonces, then (if still full) the one issued earliest,
        raising the floor to it."""
        for nonce in [n for n in self._uses if not self._nonce_fresh(n)]:
            del self._uses[nonce]
        while len(self._uses) >= MAX_NONCES:
            oldest = min(self._uses, key=self._issued)
            self._floor = max(self._floor, self._issued(oldest))
            del self._uses[oldest]

    # --- answering -------------------------------------------------------------------------

    def challenge(self, stale: bool = False) -> web.Response:
        response = web.Response(text=ERROR_BODIES[401], status=401, content_type="text/html",
                                headers=API_HEADERS)
        realm = self.realm()
        if self.mode in ("digest", "both"):
            digest = (f'Digest realm="{realm}", qop="auth", algorithm=MD5-sess, '
                      f'nonce="{self.new_nonce()}", opaque="{self._opaque}"')
            if stale:
                digest += ", stale=true"
            response.headers.add("WWW-Authenticate", digest)
        if self.mode in ("basic", "both"):
            response.headers.add("WWW-Authenticate", f'Basic realm="{realm}"')
        return response

    def refusal(self, request: web.Request, password: str) -> web.Response | None:
        """None when `request` carries valid credentials for `password` (the one in force,
        `required`), else the challenge to answer; a refused answer is logged (QuietLog)."""
        verdict = self.verify(request, password)
        if verdict is Verdict.OK:
            return None
        if "Authorization" in request.headers:
            self.refused.problem(verdict.value, "%s %s from %s: credentials refused (%s)",
                                 request.method, request.path, request.remote,
                                 verdict.value)
        return self.challenge(stale=verdict is Verdict.STALE)


AUTHENTICATOR: Final = web.AppKey("authenticator", Authenticator)
