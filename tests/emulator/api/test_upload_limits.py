"""Issue 10: a stalled firmware upload gives the update slot back; the header line's
documented limit (512 bytes with its newline) holds whatever the chunking."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from emulator.api import create_app, maintenance
from emulator.device.firmware import MAGIC, MAX_HEADER, FirmwareSlot, InvalidImage
from tests.emulator.api.conftest import ClientFactory
from tests.emulator.api.test_maintenance_api import upload_form
from tests.support import ManualClock, build_device


def padded_image(header_length: int, body: bytes = b"fw") -> bytes:
    """An image whose header line (with its newline) is `header_length` bytes long."""
    line = f"{MAGIC.decode()} version=1.11.0 sha256={hashlib.sha256(body).hexdigest()}"
    line += " " * (header_length - 1 - len(line))
    assert len(line) + 1 == header_length
    return line.encode() + b"\n" + body


@pytest.fixture
async def fw_client(aiohttp_client: ClientFactory, tmp_path: Path,
                    clock: ManualClock) -> TestClient:  # type: ignore[type-arg]
    slot = FirmwareSlot(tmp_path / "firmware", "1.10.0", "WW_Go_1.2", max_image=50_000)
    return await aiohttp_client(create_app(build_device(tmp_path, clock, firmware=slot)))


@pytest.mark.parametrize("length", [MAX_HEADER + 1, 641])
def test_a_header_line_over_the_limit_is_refused_in_one_chunk(tmp_path: Path,
                                                              length: int) -> None:
    slot = FirmwareSlot(tmp_path, "1.10.0", "WW_Go_1.2")
    slot.begin()
    with pytest.raises(InvalidImage, match="longer than 512"):
        slot.feed(padded_image(length))


def test_a_header_line_at_the_limit_is_accepted(tmp_path: Path) -> None:
    slot = FirmwareSlot(tmp_path, "1.10.0", "WW_Go_1.2")
    slot.begin()
    slot.feed(padded_image(MAX_HEADER))
    assert slot.finish() == "1.11.0"


async def test_a_641_byte_header_is_refused_over_http(fw_client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await fw_client.post("/load", data=upload_form(padded_image(641)))
    assert resp.status == 400
    assert "longer than 512" in await resp.text()


async def test_a_stalled_upload_frees_the_slot(fw_client: TestClient,  # type: ignore[type-arg]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maintenance, "CHUNK_TIMEOUT", 0.3)
    server = fw_client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    head = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + padded_image(200)[:150])
    writer.write(b"POST /load HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: multipart/form-data; boundary=B\r\n"
                 b"Content-Length: 40000\r\n\r\n" + head)
    await writer.drain()
    # The client sends nothing more: the device gives up on it (408), not waiting for ever.
    status_line = await reader.readline()
    assert b" 408 " in status_line
    writer.close()
    await writer.wait_closed()
    resp = await fw_client.post("/load", data=upload_form(padded_image(200)))
    assert resp.status == 200, await resp.text()
