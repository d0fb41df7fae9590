"""The device core: frames become numbered reports, the status machine follows the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.device.core import Device
from emulator.device.status import LinkEvent, MeterStatus, next_status
from meter_protocols.readings import FrameDecoded, Interface, ProblemKind, problem
from tests.support import ManualClock, build_device, ensor_readings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(tmp_path: Path, clock: ManualClock) -> Device:
    return build_device(tmp_path, clock)


def feed_frames(device: Device, clock: ManualClock, count: int, every: float = 1.0) -> None:
    for reading in ensor_readings(count):
        clock.advance(every)
        device.on_event(FrameDecoded(reading, 900), Interface.P1)


def test_reports_count_frames_and_measure_the_interval(device: Device,
                                                        clock: ManualClock) -> None:
    device.link_listening(Interface.P1, "test")
    assert device.meter.status is MeterStatus.NO_DATA
    feed_frames(device, clock, 3, every=0.998)
    assert device.latest is not None
    assert device.latest.id == 3
    assert device.latest.interval == pytest.approx(0.998)
    assert device.meter.status is MeterStatus.OK
    assert device.meter.interval == pytest.approx(0.998)


def test_every_report_reaches_the_hub(device: Device, clock: ManualClock) -> None:
    seen: list[int] = []
    device.reports.add_listener(lambda report: seen.append(report.id))
    feed_frames(device, clock, 4)
    assert seen == [1, 2, 3, 4]


def test_the_detectors_silence_turns_ok_into_no_data_and_a_frame_back(
        device: Device, clock: ManualClock) -> None:
    # The detector holds the one silence rule; the device takes NO DATA from it.
    feed_frames(device, clock, 3)
    device.link_status(MeterStatus.NO_DATA, "the meter has not sent anything for 5 s")
    assert device.meter.status is MeterStatus.NO_DATA
    assert device.meter.message.startswith("the meter has not sent")
    feed_frames(device, clock, 1)
    assert device.meter.status is MeterStatus.OK


def test_line_lost_is_not_connected(device: Device, clock: ManualClock) -> None:
    feed_frames(device, clock, 2)
    device.link_lost("unplugged")
    assert device.meter.status is MeterStatus.NOT_CONNECTED
    assert device.meter.interface is Interface.NONE
    assert device.meter.last_frame_mono is None


def test_problems_are_counted_and_keys_change_the_status(device: Device) -> None:
    device.on_event(problem(ProblemKind.BAD_CRC, "x"))
    device.on_event(problem(ProblemKind.BAD_CRC, "y"))
    assert device.meter.problems[ProblemKind.BAD_CRC] == 2
    device.on_event(problem(ProblemKind.KEY_REQUIRED, "ciphered"))
    assert device.meter.status is MeterStatus.KEY_REQUIRED
    device.on_event(problem(ProblemKind.DECRYPTION_FAILED, "tag"))
    assert device.meter.status is MeterStatus.ENCRYPTION_KEY


def test_problems_are_logged_once_per_period(device: Device, clock: ManualClock,
                                             caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(50):
        device.on_event(problem(ProblemKind.BAD_CRC, "flipped digit"))
    assert sum("bad_crc" in r.getMessage() for r in caplog.records) == 1
    clock.advance(61)
    device.on_event(problem(ProblemKind.BAD_CRC, "flipped digit"))
    assert sum("bad_crc" in r.getMessage() for r in caplog.records) == 2


def test_settings_are_applied_to_new_reports(device: Device, clock: ManualClock) -> None:
    device.settings.put("meter", {"conv_factor": 2.5, "time_offset": -60})
    feed_frames(device, clock, 1)
    assert device.latest is not None
    assert (device.latest.conv_factor, device.latest.time_offset) == (2.5, -60)


def test_restart_starts_a_new_boot(device: Device, clock: ManualClock) -> None:
    feed_frames(device, clock, 3)
    old_boot = device.boot.boot_id
    clock.advance(100)
    device.restart()
    assert device.boot.boot_id != old_boot
    assert device.latest is None and device.uptime() == 0
    feed_frames(device, clock, 1)
    assert device.latest is not None and device.latest.id == 1


@pytest.mark.parametrize(("current", "event", "expected"), [
    (MeterStatus.NOT_CONNECTED, LinkEvent.LISTENING, MeterStatus.NO_DATA),
    (MeterStatus.NOT_CONNECTED, LinkEvent.SEARCHING, MeterStatus.RECOGNITION),
    (MeterStatus.RECOGNITION, LinkEvent.FRAME, MeterStatus.OK),
    (MeterStatus.RECOGNITION, LinkEvent.SILENCE, MeterStatus.RECOGNITION),
    (MeterStatus.RECOGNITION, LinkEvent.UNRECOGNIZED, MeterStatus.NOT_RECOGNIZED),
    (MeterStatus.OK, LinkEvent.SILENCE, MeterStatus.NO_DATA),
    (MeterStatus.OK, LinkEvent.LISTENING, MeterStatus.OK),
    (MeterStatus.OK, LinkEvent.LINE_LOST, MeterStatus.NOT_CONNECTED),
    (MeterStatus.KEY_REQUIRED, LinkEvent.SILENCE, MeterStatus.NO_DATA),
    (MeterStatus.ENCRYPTION_KEY, LinkEvent.FRAME, MeterStatus.OK),
    (MeterStatus.NO_DATA, LinkEvent.SILENCE, MeterStatus.NO_DATA),
    (MeterStatus.OK, LinkEvent.KEY_WRONG, MeterStatus.ENCRYPTION_KEY),
])
def test_status_machine(current: MeterStatus, event: LinkEvent, expected: MeterStatus) -> None:
    assert next_status(current, event) is expected


def test_status_strings_are_the_manuals() -> None:
    assert {s.value for s in MeterStatus} == {
        "NOT CONNECTED", "NO DATA", "RECOGNITION", "OK", "ENCRYPTION KEY", "KEY REQUIRED",
        "NOT RECOGNIZED"}


@pytest.mark.parametrize("kind", [ProblemKind.NO_KNOWN_VALUES, ProblemKind.UNKNOWN_LAYOUT])
def test_a_frame_without_known_values_is_never_ok(device: Device, kind: ProblemKind) -> None:
    device.on_event(problem(kind, "push layout x carries no value the device knows",
                            b"\x0f\x00"))
    assert device.meter.status is MeterStatus.NOT_RECOGNIZED
    assert device.latest is None
    diagnostics = device.diagnostics()
    assert diagnostics["last_problem"] == {
        "kind": kind.value, "detail": "push layout x carries no value the device knows",
        "data": "0f 00"}
