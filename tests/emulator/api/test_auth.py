"""Protection: with system.protection and a password, every request needs Digest (current
firmware) or Basic (older firmware) credentials. Checked with hand-made answers and with
real clients: curl --anyauth and Python requests' HTTPDigestAuth."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import requests
from aiohttp.test_utils import TestClient
from requests.auth import HTTPDigestAuth

from emulator.api import create_app
from emulator.api.auth import NONCE_LIFETIME, Authenticator, parse_params
from emulator.app import EmulatorApp
from emulator.config import AppConfig
from emulator.device.core import Device
from tests.conftest import program
from tests.emulator.api.conftest import ClientFactory

PASSWORD = "s3cret-Pa55"
REALM = "whatwatt-9F8124"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def params_of(challenge: str) -> dict[str, str]:
    return parse_params(challenge.removeprefix("Digest "))


def digest(challenge: str, method: str, uri: str, password: str = PASSWORD, *,
           algorithm: str = "MD5-sess", nc: str = "00000001", cnonce: str = "0a4f113b",
           user: str = "") -> str:
    """An Authorization header answering `challenge` as RFC 7616 says."""
    params = params_of(challenge)
    realm, nonce = params["realm"], params["nonce"]
    ha1 = md5(f"{user}:{realm}:{password}")
    if algorithm.upper() == "MD5-SESS":
        ha1 = md5(f"{ha1}:{nonce}:{cnonce}")
    response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'{method}:{uri}')}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'algorithm={algorithm}, response="{response}", qop=auth, nc={nc}, '
            f'cnonce="{cnonce}", opaque="{params["opaque"]}"')


def basic(password: str = PASSWORD, user: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def protect(client: TestClient, password: str = PASSWORD) -> None:  # type: ignore[type-arg]
    response = await client.put("/api/v1/settings", json={
        "system": {"protection": True, "password": password}})
    assert response.status == 200


async def challenge_of(client: TestClient, path: str = "/api/v1/system") -> str:  # type: ignore[type-arg]
    response = await client.get(path)
    assert response.status == 401
    return next(h for h in response.headers.getall("WWW-Authenticate")
                if h.startswith("Digest "))


async def test_no_protection_no_credentials(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/api/v1/system")).status == 200
    # Protection without a password protects nothing (the newer settings page).
    await client.put("/api/v1/settings", json={"system": {"protection": True}})
    assert (await client.get("/api/v1/system")).status == 200


async def test_the_challenge_offers_digest_first_then_basic(client: TestClient) -> None:  # type: ignore[type-arg]
    await protect(client)
    response = await client.get("/api/v1/report")
    assert response.status == 401
    assert await response.text() == "No permission -- see authorization schemes"
    first, second = response.headers.getall("WWW-Authenticate")
    params = params_of(first)
    assert first.startswith("Digest ")
    assert (params["realm"], params["qop"], params["algorithm"]) == (REALM, "auth", "MD5-sess")
    assert params["nonce"] and params["opaque"] and "stale" not in params
    assert second == f'Basic realm="{REALM}"'
    assert PASSWORD not in str(response.headers)


@pytest.mark.parametrize("algorithm", ["MD5-sess", "MD5", "MD5-SESS"])
async def test_digest_answers_are_accepted(client: TestClient, algorithm: str) -> None:  # type: ignore[type-arg]
    await protect(client)
    challenge = await challenge_of(client)
    header = digest(challenge, "GET", "/api/v1/system?x=1", algorithm=algorithm)
    response = await client.get("/api/v1/system?x=1", headers={"Authorization": header})
    assert response.status == 200
    # The user name is not used: any name works.
    header = digest(challenge, "GET", "/api/v1/system", algorithm=algorithm, user="admin",
                    nc="00000002")
    assert (await client.get("/api/v1/system", headers={"Authorization": header})).status == 200


async def test_wrong_digest_answers_are_refused(client: TestClient) -> None:  # type: ignore[type-arg]
    await protect(client)
    challenge = await challenge_of(client)
    for header in (
        digest(challenge, "GET", "/api/v1/system", password="wrong"),
        digest(challenge, "GET", "/api/v1/report"),  # answered for another URI
        digest(challenge, "POST", "/api/v1/system"),  # ... another method
        digest(challenge, "GET", "/api/v1/system").replace("qop=auth", "qop=auth-int"),
        digest(challenge, "GET", "/api/v1/system").replace(REALM, "other"),
        'Digest username="", nonce="x"',
        "Digest",
    ):
        response = await client.get("/api/v1/system", headers={"Authorization": header})
        assert response.status == 401, header
        assert "stale" not in response.headers["WWW-Authenticate"]


async def test_basic_works_and_a_wrong_password_does_not(client: TestClient) -> None:  # type: ignore[type-arg]
    await protect(client)
    ok = await client.get("/api/v1/system", headers={"Authorization": basic()})
    assert ok.status == 200
    assert (await client.get("/api/v1/system",
                             headers={"Authorization": basic(user="anyone")})).status == 200
    for header in (basic("wrong"), basic(PASSWORD + "x"), "Basic !!notbase64",
                   "Basic " + base64.b64encode(PASSWORD.encode()).decode(), "Bearer x"):
        response = await client.get("/api/v1/system", headers={"Authorization": header})
        assert response.status == 401, header


@pytest.mark.parametrize(("mode", "schemes"), [("digest", ["Digest"]), ("basic", ["Basic"])])
async def test_a_single_mode_offers_and_accepts_only_its_scheme(
        aiohttp_client: ClientFactory, device: Device, mode: str, schemes: list[str]) -> None:
    client = await aiohttp_client(create_app(device, auth=mode))
    await protect(client)
    response = await client.get("/api/v1/system")
    assert [h.split()[0] for h in response.headers.getall("WWW-Authenticate")] == schemes
    basic_answer = await client.get("/api/v1/system", headers={"Authorization": basic()})
    assert basic_answer.status == (200 if mode == "basic" else 401)
    if mode == "basic":
        return
    header = digest(await challenge_of(client), "GET", "/api/v1/system")
    assert (await client.get("/api/v1/system", headers={"Authorization": header})).status == 200


async def test_expired_nonces_are_stale(aiohttp_client: ClientFactory, device: Device) -> None:
    now = [1000.0]
    client = await aiohttp_client(create_app(device, auth=Authenticator(
        device, "both", now=lambda: now[0])))
    await protect(client)
    challenge = await challenge_of(client)
    header = digest(challenge, "GET", "/api/v1/system")
    assert (await client.get("/api/v1/system", headers={"Authorization": header})).status == 200
    now[0] += NONCE_LIFETIME
    again = digest(challenge, "GET", "/api/v1/system", nc="00000002")
    stale = await client.get("/api/v1/system", headers={"Authorization": again})
    assert stale.status == 401
    fresh = stale.headers.getall("WWW-Authenticate")[0]
    assert fresh.endswith(", stale=true")
    assert params_of(fresh)["nonce"] != params_of(challenge)["nonce"]
    # The client retries with the new nonce, a new cnonce, nc=1: no new password needed.
    retry = digest(fresh, "GET", "/api/v1/system", cnonce="77aa")
    assert (await client.get("/api/v1/system", headers={"Authorization": retry})).status == 200
    # A wrong password with an expired nonce is just wrong: no stale=true.
    now[0] += NONCE_LIFETIME
    wrong = digest(fresh, "GET", "/api/v1/system", password="nope", nc="00000002")
    response = await client.get("/api/v1/system", headers={"Authorization": wrong})
    assert "stale" not in response.headers["WWW-Authenticate"]


async def test_a_replayed_answer_is_stale(client: TestClient) -> None:  # type: ignore[type-arg]
    await protect(client)
    header = digest(await challenge_of(client), "GET", "/api/v1/system")
    assert (await client.get("/api/v1/system", headers={"Authorization": header})).status == 200
    replay = await client.get("/api/v1/system", headers={"Authorization": header})
    assert replay.status == 401
    assert "stale=true" in replay.headers["WWW-Authenticate"]


async def test_a_nonce_from_an_earlier_run_is_stale(aiohttp_client: ClientFactory,
                                                    device: Device) -> None:
    earlier = await aiohttp_client(create_app(device))
    await protect(earlier)
    challenge = await challenge_of(earlier)
    later = await aiohttp_client(create_app(device))  # a new process: a new key
    header = digest(challenge, "GET", "/api/v1/system")
    response = await later.get("/api/v1/system", headers={"Authorization": header})
    assert response.status == 401
    assert "stale=true" in response.headers["WWW-Authenticate"]


async def test_the_realm_follows_the_host_name(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.put("/api/v1/settings", json={"system": {
        "protection": True, "password": PASSWORD, "host_name": "cellar_meter"}})
    challenge = await challenge_of(client)
    assert params_of(challenge)["realm"] == "cellar-meter"


async def test_requests_http_digest_auth(client: TestClient) -> None:  # type: ignore[type-arg]
    await protect(client)
    url = str(client.make_url("/api/v1/settings"))

    def talk() -> tuple[int, int, int, int]:
        with requests.Session() as session:
            session.auth = HTTPDigestAuth("", PASSWORD)
            got = session.get(url, timeout=10)
            put = session.put(url, json={"system": {"name": "via requests"}}, timeout=10)
            again = session.get(url, timeout=10)  # the same nonce, the next nc
        wrong = requests.get(url, auth=HTTPDigestAuth("", "wrong"), timeout=10)
        return got.status_code, put.status_code, again.status_code, wrong.status_code

    assert await asyncio.to_thread(talk) == (200, 200, 200, 401)
    settings = await (await client.get("/api/v1/settings",
                                       headers={"Authorization": basic()})).json()
    assert settings["system"]["name"] == "via requests"


async def curl(*args: str) -> tuple[int, str]:
    """Runs curl and returns (HTTP status, body); the test server keeps serving meanwhile."""
    process = await asyncio.create_subprocess_exec(
        program("curl"), "-s", "-w", "\n%{http_code}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    body, _, status = out.decode().rpartition("\n")
    return int(status), body


async def test_curl_anyauth_digest_and_basic(client: TestClient) -> None:  # type: ignore[type-arg]
    await protect(client)
    url = str(client.make_url("/api/v1/system"))
    status, body = await curl("--anyauth", "-u", f":{PASSWORD}", url)
    assert status == 200 and '"device"' in body
    assert (await curl("--digest", "-u", f":{PASSWORD}", url))[0] == 200
    assert (await curl("--basic", "-u", f":{PASSWORD}", url))[0] == 200
    assert (await curl("--anyauth", "-u", ":wrong", url))[0] == 401
    assert (await curl(url))[0] == 401
    settings = str(client.make_url("/api/v1/settings"))
    status, body = await curl("--anyauth", "-u", f":{PASSWORD}", "-X", "PUT",
                              "-H", "Content-Type: application/json",
                              "--data", '{"system": {"name": "via curl"}}', settings)
    assert status == 200 and '"via curl"' in body


async def test_no_credential_is_logged(client: TestClient,  # type: ignore[type-arg]
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await protect(client)
    await client.get("/api/v1/system", headers={"Authorization": basic("guess-1234")})
    header = digest(await challenge_of(client), "GET", "/api/v1/system")
    await client.get("/api/v1/system", headers={"Authorization": header})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "credentials refused" in logged
    assert PASSWORD not in logged and "guess-1234" not in logged
    assert base64.b64encode(b":guess-1234").decode() not in logged


# --- every route of the real application ---------------------------------------------------


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[EmulatorApp]:
    app = EmulatorApp(AppConfig(http_port=0, data_dir=tmp_path / "data"))
    yield app
    await app.stop()


def concrete_path(info: dict[str, str]) -> str:
    """A request path for a route: placeholders filled, a file under a static prefix."""
    if "path" in info:
        return info["path"]
    if "formatter" in info:
        path = info["formatter"]
        while "{" in path:
            start = path.index("{")
            path = path[:start] + "x" + path[path.index("}", start) + 1:]
        return path
    return info["prefix"].rstrip("/") + "/index.html"


async def test_no_route_answers_without_credentials(aiohttp_client: ClientFactory,
                                                    emulator: EmulatorApp) -> None:
    client = await aiohttp_client(emulator.web)
    await protect(client)
    routes = {(route.method, concrete_path(route.resource.get_info()))
              for route in emulator.web.router.routes() if route.resource is not None}
    assert len(routes) >= 20  # the sweep must see the application's routes
    assert ("POST", "/load") in routes and ("GET", "/api/v1/live") in routes
    answered = []
    for method, path in [*sorted(routes), ("GET", "/no/such/path")]:
        verb = "GET" if method == "*" else method
        response = await client.request(verb, path, data=b"{}")
        if response.status != 401:
            answered.append((verb, path, response.status))
        response.release()
    assert answered == []
    # With credentials the same reads get past the check, so the sweep could have failed.
    for method, path in sorted(routes):
        if method == "GET" and path != "/api/v1/live":
            response = await client.get(path, headers={"Authorization": basic()})
            assert response.status != 401, path
            response.release()
    assert (await client.get("/api/v1/system", headers={"Authorization": basic()})).status \
        == 200
