"""/sdcard/ over real HTTP: listing, download, delete, errors, and the traversal table: no
request ever reads, lists or deletes anything outside the card."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from emulator.api import create_app
from emulator.device.core import Device
from emulator.services.sd_files import CardFiles
from tests.emulator.api.conftest import ClientFactory

SECRET = b"TOP SECRET outside the card"


@pytest.fixture
def card(tmp_path: Path, device: Device) -> Path:
    root = tmp_path / "card"
    (root / "SUB" / "DEEP").mkdir(parents=True)
    (root / "20250122.CSV").write_bytes(b"RID,TIME\n1,\"2025-01-22T10:54:03Z\"\n")
    (root / "NIHAO.TXT").write_bytes(b"hello world\n")
    (root / "SUB" / "INNER.TXT").write_bytes(b"inner\n")
    (root / "SUB" / "DEEP" / "X.BIN").write_bytes(b"\x00\x01")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (root / "LINKDIR").symlink_to(outside, target_is_directory=True)
    (root / "LINK.TXT").symlink_to(outside / "secret.txt")
    (root / "SUB" / "UP").symlink_to(outside, target_is_directory=True)
    device.ports.sd_card = CardFiles(root)
    return root


@pytest.fixture
async def sd_client(aiohttp_client: ClientFactory, device: Device, card: Path) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(device))


async def raw_request(client: TestClient, method: str, target: str) -> tuple[int, bytes]:  # type: ignore[type-arg]
    """A request with the target exactly as written (no client normalises it)."""
    reader, writer = await asyncio.open_connection(str(client.host), int(client.port or 0))
    try:
        writer.write(f"{method} {target} HTTP/1.1\r\nHost: device\r\nConnection: close\r\n\r\n"
                     .encode("latin-1"))
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    status = int(data.split(b" ", 2)[1])
    return status, data


async def test_the_root_lists_files_and_directories(sd_client: TestClient) -> None:  # type: ignore[type-arg]
    response = await sd_client.get("/sdcard/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    body = await response.json()
    assert body == {"path": "/sdcard/", "files": [
        {"name": "20250122.CSV", "size": 34, "type": "file"},
        {"name": "NIHAO.TXT", "size": 12, "type": "file"},
        {"name": "SUB", "size": 0, "type": "dir"},
    ]}  # the links planted in the folder are not on a FAT card


async def test_subdirectories_list_with_or_without_the_slash(sd_client: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/sdcard/SUB/", "/sdcard/SUB"):
        body = await (await sd_client.get(path)).json()
        assert body["path"] == "/sdcard/SUB/"
        assert [f["name"] for f in body["files"]] == ["DEEP", "INNER.TXT"]


async def test_a_file_downloads_with_its_mime_type(sd_client: TestClient, card: Path) -> None:  # type: ignore[type-arg]
    response = await sd_client.get("/sdcard/20250122.CSV")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv"
    assert int(response.headers["Content-Length"]) == 34
    text = await response.text()
    assert list(csv.reader(io.StringIO(text)))[1] == ["1", "2025-01-22T10:54:03Z"]
    txt = await sd_client.get("/sdcard/NIHAO.TXT")
    assert txt.headers["Content-Type"].startswith("text/plain")
    assert await txt.read() == b"hello world\n"
    binary = await sd_client.get("/sdcard/SUB/DEEP/X.BIN")
    assert binary.headers["Content-Type"] == "application/octet-stream"
    status, raw = await raw_request(sd_client, "HEAD", "/sdcard/NIHAO.TXT")
    assert status == 200 and b"Content-Length: 12\r\n" in raw
    assert raw.endswith(b"\r\n\r\n")  # no body


async def test_a_large_file_streams_in_chunks(sd_client: TestClient, card: Path) -> None:  # type: ignore[type-arg]
    data = os.urandom(1024 * 1024 + 17)
    (card / "BIG.BIN").write_bytes(data)
    response = await sd_client.get("/sdcard/BIG.BIN")
    assert response.status == 200
    assert await response.read() == data


async def test_delete_a_file_and_a_directory(sd_client: TestClient, card: Path) -> None:  # type: ignore[type-arg]
    assert (await sd_client.delete("/sdcard/NIHAO.TXT")).status == 204
    assert not (card / "NIHAO.TXT").exists()
    assert (await sd_client.delete("/sdcard/SUB/")).status == 204
    assert not (card / "SUB").exists()
    assert (await sd_client.get("/sdcard/NIHAO.TXT")).status == 404
    assert (await sd_client.delete("/sdcard/NIHAO.TXT")).status == 404


async def test_the_root_cannot_be_deleted(sd_client: TestClient, card: Path) -> None:  # type: ignore[type-arg]
    for path in ("/sdcard/", "/sdcard"):
        assert (await sd_client.delete(path)).status == 400
    assert (card / "20250122.CSV").exists()


async def test_missing_entries_are_404(sd_client: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/sdcard/NOPE.CSV", "/sdcard/NOPE/", "/sdcard/NIHAO.TXT/",
                 "/sdcard/NIHAO.TXT/X"):
        response = await sd_client.get(path)
        assert response.status == 404, path


async def test_no_card_is_503_everywhere(aiohttp_client: ClientFactory, device: Device) -> None:
    client = await aiohttp_client(create_app(device))  # no SdCard port: --no-sdcard
    for method, path in (("GET", "/sdcard/"), ("GET", "/sdcard/X.CSV"),
                         ("DELETE", "/sdcard/X.CSV"), ("DELETE", "/sdcard/")):
        assert (await client.request(method, path)).status == 503, (method, path)
    page = await client.get("/sd.html")
    assert page.status == 200 and "/sdcard/" in await page.text()


#: (method, request target as sent, answer). Each must neither read nor delete outside.
TRAVERSAL = [
    ("GET", "/sdcard/../outside/secret.txt", 400),
    ("GET", "/sdcard/SUB/../../outside/secret.txt", 400),
    ("GET", "/sdcard/%2e%2e/outside/secret.txt", 400),
    ("GET", "/sdcard/%2E%2E/outside/", 400),
    ("GET", "/sdcard/SUB/%2e%2e/%2e%2e/outside/secret.txt", 400),
    ("GET", "/sdcard/%2e%2e%2foutside%2fsecret.txt", 400),
    ("GET", "/sdcard/SUB%2F..%2F..%2Foutside", 400),
    ("GET", "/sdcard/..%5coutside%5csecret.txt", 400),
    ("GET", "/sdcard/..\\outside\\secret.txt", 400),
    ("GET", "/sdcard//etc/passwd", 400),
    ("GET", "/sdcard/%2fetc%2fpasswd", 400),
    ("GET", "/sdcard/NIHAO.TXT%00.CSV", 400),
    ("GET", "/sdcard/./NIHAO.TXT", 400),
    ("GET", "/sdcard/SUB/%2e/INNER.TXT", 400),
    ("GET", "/sdcard/LINK.TXT", 404),
    ("GET", "/sdcard/LINKDIR/secret.txt", 404),
    ("GET", "/sdcard/LINKDIR/", 404),
    ("GET", "/sdcard/SUB/UP/secret.txt", 404),
    ("GET", "/sdcard/%ff%fe", 400),
    ("DELETE", "/sdcard/LINKDIR/", 404),
    ("DELETE", "/sdcard/LINKDIR/secret.txt", 404),
    ("DELETE", "/sdcard/SUB/UP/", 404),
    ("DELETE", "/sdcard/LINK.TXT", 404),
    ("DELETE", "/sdcard/%2e%2e/outside/", 400),
    ("DELETE", "/sdcard/SUB/%2e%2e/%2e%2e/outside/secret.txt", 400),
    ("DELETE", "/sdcard/%2e%2e%2foutside", 400),
    ("DELETE", "/sdcard/..%5Coutside", 400),
    ("DELETE", "/sdcard//tmp", 400),
    ("DELETE", "/sdcard/SUB%00", 400),
]


@pytest.mark.parametrize(("method", "target", "status"), TRAVERSAL)
async def test_no_path_escapes_the_card(sd_client: TestClient, card: Path, tmp_path: Path,  # type: ignore[type-arg]
                                        method: str, target: str, status: int) -> None:
    answer, raw = await raw_request(sd_client, method, target)
    assert answer == status, raw[:200]
    assert SECRET not in raw
    assert (tmp_path / "outside" / "secret.txt").read_bytes() == SECRET
    # The card itself is untouched too, and the controls still work.
    assert (card / "SUB" / "INNER.TXT").exists() and (card / "LINK.TXT").is_symlink()
    ok, body = await raw_request(sd_client, "GET", "/sdcard/SUB/INNER.TXT")
    assert ok == 200 and body.endswith(b"inner\n")
