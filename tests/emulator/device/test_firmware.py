"""The emulator's firmware image format and the update slot: only our images, verified,
written as they arrive, run from the next boot, kept in the data dir."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from emulator.device.firmware import (
    MAGIC,
    FirmwareSlot,
    ImageTooLarge,
    InvalidImage,
    UpdateState,
    UpdateUnavailable,
    make_image,
    parse_header,
)

MODEL = "WW_Go_1.2"


def upload(slot: FirmwareSlot, image: bytes, chunk: int = 7) -> str:
    slot.begin()
    for start in range(0, len(image), chunk):
        slot.feed(image[start:start + chunk])
    return slot.finish()


def test_the_header_line() -> None:
    header = parse_header(b"WHATWATT-EMULATOR-FIRMWARE version=1.11.0 model=WW_Go_1.2")
    assert (header.version, header.model, header.sha256) == ("1.11.0", MODEL, None)
    digest = "AB" * 32
    assert parse_header(MAGIC + b" version=2.0.1 sha256=" + digest.encode()).sha256 == \
        digest.lower()


@pytest.mark.parametrize("line", [
    b"", b"WHATWATT-EMULATOR-FIRMWARE", b"WHATWATT-EMULATOR-FIRMWARE model=WW_Go_1.2",
    b"WHATWATT-EMULATOR-FIRMWARE version=1.11", b"WHATWATT-EMULATOR-FIRMWARE version=v1.2.3",
    b"WHATWATT-EMULATOR-FIRMWARE version=1.2.3 sha256=xyz",
    b"WHATWATT-EMULATOR-FIRMWARE version=1.2.3 junk", b"\xe9\x00ESP32 image",
    b"WHATWATT-EMULATOR-FIRMWARE version=1.2.3 note=\xff",
])
def test_headers_that_are_refused(line: bytes) -> None:
    with pytest.raises(InvalidImage):
        parse_header(line)


def test_a_verified_image_runs_from_the_next_boot_and_is_remembered(tmp_path: Path) -> None:
    slot = FirmwareSlot(tmp_path, "1.10.0", MODEL)
    body = bytes(range(256)) * 40
    assert upload(slot, make_image("1.11.0", body, model=MODEL)) == "1.11.0"
    assert slot.state is UpdateState.READY
    assert slot.running == "1.10.0"  # still the old one until the reboot
    assert (tmp_path / "ota.bin").read_bytes() == body
    assert json.loads((tmp_path / "installed.json").read_text()) == {"version": "1.11.0"}
    assert slot.status() == {"state": "ready", "firmware": "1.10.0", "pending": "1.11.0"}
    assert slot.boot() == "1.11.0"
    assert slot.status() == {"state": "idle", "firmware": "1.11.0"}
    # A power cut after the verification: the next start runs the new version too.
    assert FirmwareSlot(tmp_path, "1.10.0", MODEL).running == "1.11.0"


def test_the_smallest_image_is_the_header_line(tmp_path: Path) -> None:
    slot = FirmwareSlot(None, "1.10.0", MODEL)
    assert upload(slot, b"WHATWATT-EMULATOR-FIRMWARE version=1.12.3\r\n") == "1.12.3"


@pytest.mark.parametrize(("image", "reason"), [
    (b"", "empty file"),
    (b"\xe9\x03\x02\x20" + bytes(2000), "not a whatwatt"),
    (b"WHATWATT-EMULATOR-FIRMWARE version=1.11.0", "not a whatwatt"),  # no line end
    (b"WHATWATT-EMULATOR-FIRMWARE version=1.11.0 model=WW_Go_2.0\nx", "WW_Go_2.0"),
    (b"WHATWATT-EMULATOR-FIRMWARE " + b"x" * 600 + b"\n", "not a whatwatt"),
    (make_image("1.11.0", b"good body")[:-1] + b"!", "SHA-256"),
])
def test_other_files_are_refused_and_change_nothing(tmp_path: Path, image: bytes,
                                                    reason: str) -> None:
    slot = FirmwareSlot(tmp_path, "1.10.0", MODEL)
    with pytest.raises(InvalidImage, match=reason):
        upload(slot, image)
    assert slot.state is UpdateState.FAILED and reason in slot.error
    assert slot.boot() == "1.10.0"
    assert not (tmp_path / "installed.json").exists()
    assert not (tmp_path / "ota.bin").exists()


def test_an_image_larger_than_the_slot(tmp_path: Path) -> None:
    slot = FirmwareSlot(tmp_path, "1.10.0", MODEL, max_image=1000)
    with pytest.raises(ImageTooLarge):
        upload(slot, make_image("1.11.0", b"x" * 1000), chunk=100)
    assert slot.status()["state"] == "failed"
    assert upload(slot, make_image("1.11.0", b"x" * 800)) == "1.11.0"  # a retry may follow


def test_one_update_at_a_time(tmp_path: Path) -> None:
    slot = FirmwareSlot(tmp_path, "1.10.0", MODEL)
    slot.begin()
    with pytest.raises(UpdateUnavailable, match="in progress"):
        slot.begin()
    slot.feed(make_image("1.11.0"))
    slot.finish()
    with pytest.raises(UpdateUnavailable, match="reboot"):
        slot.begin()
    slot.boot()
    slot.begin()
    assert slot.status() == {"state": "receiving", "firmware": "1.11.0", "received": "0"}
    slot.abort("client went away")
    assert slot.status()["error"] == "client went away"


def test_a_full_disk_is_unavailable_not_invalid(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    (tmp_path / "ota.bin").symlink_to("/dev/full")  # every write: ENOSPC
    slot = FirmwareSlot(tmp_path, "1.10.0", MODEL)
    with pytest.raises(UpdateUnavailable, match=r"no space|store"):
        upload(slot, make_image("1.11.0", b"y" * 100_000), chunk=65536)
    assert slot.boot() == "1.10.0"
    assert not (tmp_path / "installed.json").exists()


def test_an_unreadable_installed_record_keeps_the_built_in_version(tmp_path: Path) -> None:
    (tmp_path / "installed.json").write_text('{"version": "../../etc"}')
    assert FirmwareSlot(tmp_path, "1.10.0", MODEL).running == "1.10.0"
    (tmp_path / "installed.json").write_text("{half")
    assert FirmwareSlot(tmp_path, "1.10.0", MODEL).running == "1.10.0"


def test_make_image_carries_a_checksum_of_the_body() -> None:
    image = make_image("3.2.1", b"payload")
    header, _, body = image.partition(b"\n")
    assert parse_header(header).sha256 == hashlib.sha256(body).hexdigest()
