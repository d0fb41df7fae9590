"""Issue 10: a captured Digest answer is never accepted twice, however many other nonces
are issued and used meanwhile (memory stays bounded); refused credentials are logged
once per kind, then counted."""

from __future__ import annotations

import logging

import pytest

from emulator.api import auth, create_app
from emulator.api.auth import Authenticator
from emulator.device.core import Device
from tests.emulator.api.conftest import ClientFactory
from tests.emulator.api.test_auth import basic, challenge_of, digest, protect


async def test_a_captured_answer_fails_after_many_other_nonces(
        aiohttp_client: ClientFactory, device: Device,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "MAX_NONCES", 8)
    now = [1000.0]
    authenticator = Authenticator(device, "both", now=lambda: now[0])
    client = await aiohttp_client(create_app(device, auth=authenticator))
    await protect(client)
    captured = digest(await challenge_of(client), "PUT", "/api/v1/settings")
    body = {"system": {"name": "first"}}
    first = await client.put("/api/v1/settings", json=body,
                             headers={"Authorization": captured})
    assert first.status == 200
    for _ in range(3 * 8):  # other clients come and go, each with its own nonce
        now[0] += 0.01
        other = digest(await challenge_of(client), "GET", "/api/v1/system")
        assert (await client.get("/api/v1/system",
                                 headers={"Authorization": other})).status == 200
    assert len(authenticator._uses) <= 8
    replay = await client.put("/api/v1/settings", json={"system": {"name": "evil"}},
                              headers={"Authorization": captured})
    assert replay.status == 401
    assert "stale=true" in replay.headers["WWW-Authenticate"]
    assert device.settings.system.name == "first"
    # A client whose nonce was forgotten answers the fresh one and goes on.
    fresh = replay.headers.getall("WWW-Authenticate")[0]
    retry = digest(fresh, "GET", "/api/v1/system", cnonce="99")
    assert (await client.get("/api/v1/system", headers={"Authorization": retry})).status == 200


async def test_refused_credentials_are_logged_once_then_counted(
        aiohttp_client: ClientFactory, device: Device,
        caplog: pytest.LogCaptureFixture) -> None:
    client = await aiohttp_client(create_app(device))
    await protect(client)
    caplog.set_level(logging.INFO, logger="emulator.api")
    for _ in range(20):
        response = await client.get("/api/v1/system",
                                    headers={"Authorization": basic("wrong")})
        assert response.status == 401
    lines = [r for r in caplog.records if "credentials refused" in r.getMessage()]
    assert len(lines) == 1
    assert client.app[auth.AUTHENTICATOR].refused.counts["denied"] == 20
