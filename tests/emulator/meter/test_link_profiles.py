"""Every virtual meter through the real link: UART wire, auto-detection from factory
settings, decoders, keys, scalers and the status machine (issues 3, 4 and 5)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.app import EmulatorApp, provision_virtual_meter
from emulator.config import AppConfig
from emulator.device.clock import ScaledClock
from emulator.device.core import Device
from emulator.device.errors import SettingsError
from emulator.device.faces.report_json import meter_object, report_object, system_object
from emulator.device.objects import current_scalers, report_objects
from emulator.meter.replay_line import parse_capture
from emulator.meter.serve import PtyMeterServer
from emulator.meter.source import MeterSource
from emulator.meter.virtual_line import VirtualLine
from emulator.runtime.backoff import Backoff
from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface, MeterProtocol, ProblemKind
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import PROFILES, get_profile
from tests.support import ENSOR_MOMENT, ZURICH, key_paths, wait_status

SPEED = 20.0
PROTOCOLS = {"ensor-ers": (MeterProtocol.DSMR, Interface.P1),
             "lg-e570": (MeterProtocol.DLMS, Interface.MBUS),
             "lg-e450": (MeterProtocol.DLMS, Interface.MBUS),
             "kaifa-ma309": (MeterProtocol.DLMS, Interface.MBUS),
             "iskra-am550": (MeterProtocol.DLMS, Interface.P1),
             "kamstrup-omnipower": (MeterProtocol.KMP, Interface.TTL),
             "tinetz-ma309": (MeterProtocol.DLMS, Interface.MBUS),
             "netznoe-t210d": (MeterProtocol.DLMS, Interface.MBUS),
             "wienernetze-im350": (MeterProtocol.DLMS, Interface.TTL),
             "netzburgenland-e450": (MeterProtocol.DLMS, Interface.MBUS)}


@contextlib.asynccontextmanager
async def linked(tmp_path: Path, profile: str, *, install: bool = True,
                 speed: float = SPEED) -> AsyncIterator[tuple[Device, VirtualLine]]:
    clock = ScaledClock(speed, ENSOR_MOMENT)
    config = AppConfig(data_dir=tmp_path, meter=MeterSource.parse(f"virtual:{profile}"),
                       seed=1, provision=install)
    app = EmulatorApp(config, clock, backoff=Backoff(0.1, 0.5), http=False)
    assert isinstance(app.meter_line, VirtualLine)
    await app.start()
    try:
        yield app.device, app.meter_line
    finally:
        await app.stop()


async def reports(device: Device, count: int, timeout: float = 30.0) -> list[object]:
    sub = device.reports.subscribe(maxsize=count)
    try:
        return [await asyncio.wait_for(sub.get(), timeout) for _ in range(count)]
    finally:
        sub.close()


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_every_profile_is_found_from_factory_settings(tmp_path: Path,
                                                            profile: str) -> None:
    async with linked(tmp_path, profile) as (device, _):
        await wait_status(device, "OK", timeout=60)
        (report,) = await reports(device, 1)
    protocol, interface = PROTOCOLS[profile]
    assert report.reading.protocol is protocol  # type: ignore[attr-defined]
    assert device.meter.interface is interface
    assert device.meter.status.value == "OK"
    assert "decode" in device.meter.message


# The manual's "Example response for Landis+Gyr E" (section 3.1): its key paths, plus what
# the newer documentation adds to every report and meter object.
MANUAL_LG = {
    "report", "report.id", "report.interval", "report.date_time",
    "report.instantaneous_power", "report.instantaneous_power.active",
    "report.instantaneous_power.active.positive",
    "report.instantaneous_power.active.positive.total",
    "report.instantaneous_power.active.negative",
    "report.instantaneous_power.active.negative.total",
    "report.energy", "report.energy.active",
    *(f"report.energy.active.{d}{s}" for d in ("positive", "negative")
      for s in ("", ".total", ".t1", ".t2")),
    "report.energy.reactive",
    *(f"report.energy.reactive.{a}" for a in ("imported", "exported")),
    *(f"report.energy.reactive.{a}.{b}{s}" for a in ("imported", "exported")
      for b in ("inductive", "capacitive") for s in ("", ".total", ".t1", ".t2")),
    "meter", "meter.status", "meter.interface", "meter.protocol", "meter.id", "meter.model",
    "system", "system.id", "system.date_time", "system.boot_id", "system.time_since_boot",
}
NEWER = {"report.date_time_local", "report.date_time_utc", "report.conv_factor",
         "meter.logical_name", "meter.vendor", "meter.prefix",
         "system.date_time_local", "system.date_time_utc"}


async def test_lg_e570_report_has_the_manuals_landis_gyr_field_set(tmp_path: Path) -> None:
    async with linked(tmp_path, "lg-e570") as (device, line):
        (report,) = await reports(device, 1, timeout=60)
        envelope = {"report": report_object(report, ZURICH),  # type: ignore[arg-type]
                    "meter": meter_object("OK", device.meter.interface, device.meter.reading),
                    "system": system_object("A842E39F8124", 0, ZURICH, "X", 1)}
        snapshot = line.meter.state.advance(line.clock.time())
    assert key_paths(envelope) == MANUAL_LG | NEWER
    # With the installer's lge570 scalers the values are the meter's registers, in kWh.
    energy = envelope["report"]["energy"]["active"]["positive"]
    assert energy["t1"] == pytest.approx(snapshot.values["1.8.1"] / 1000, abs=0.01)
    assert energy["total"] == pytest.approx(snapshot.values["1.8.0"] / 1000, abs=0.01)


async def test_raw_values_need_the_right_scalers(tmp_path: Path) -> None:
    async with linked(tmp_path, "lg-e570", install=False) as (device, line):
        (wrong,) = await reports(device, 1, timeout=60)
        snapshot = line.meter.state.advance(line.clock.time())
        t1 = snapshot.values["1.8.1"]
        await device.settings.aput("meter", {"scalers_set": "lge570"})
        (_, right) = await reports(device, 2)
        await device.settings.aput("meter", {"scalers_set": "custom"})
        await device.settings.apost("meter_scalers", [{"obis": "1.8.255", "scaler": 3},
                                                      {"obis": "2.8.255", "scaler": 3}])
        (_, custom) = await reports(device, 2)
        scalers = current_scalers(device.meter.reading)
    assert wrong.reading.values["1.8.1"] == pytest.approx(t1 / 1000, rel=0.01)  # type: ignore[attr-defined]
    assert right.reading.values["1.8.1"] == pytest.approx(t1, rel=0.01)  # type: ignore[attr-defined]
    assert custom.reading.values["1.8.1"] == pytest.approx(t1, rel=0.01)  # type: ignore[attr-defined]
    assert {"obis": "1.8.1", "scaler": 3} in scalers


async def test_report_objects_of_a_dlms_meter_and_of_a_p1_meter(tmp_path: Path) -> None:
    async with linked(tmp_path / "a", "lg-e450") as (device, _):
        await reports(device, 1, timeout=60)
        objects = report_objects(device.meter.reading)["objects"]
    push = objects[0]
    assert push["class"] == 40 and len(push["push_object_list"]) == 28
    names = [o["logical_name"] for o in objects]
    assert "1-1:1.8.0" in names and "0-0:42.0.0" in names
    register = next(o for o in objects if o["logical_name"] == "1-0:31.7.0")
    assert set(register) == {"logical_name", "class", "tag", "size", "value", "unit", "scaler"}
    async with linked(tmp_path / "b", "ensor-ers") as (device, _):
        await reports(device, 1)
        assert report_objects(device.meter.reading) == {"objects": []}


async def test_no_key_then_a_wrong_key_then_the_right_one(tmp_path: Path) -> None:
    key = get_profile("kaifa-ma309").keys.encryption_key  # type: ignore[union-attr]
    async with linked(tmp_path, "kaifa-ma309", install=False) as (device, _):
        await wait_status(device, "KEY REQUIRED", timeout=60)
        assert device.latest is None  # nothing decoded, nothing reported
        failed = device.meter.problems[ProblemKind.DECRYPTION_FAILED]
        await device.settings.aput("meter", {"encryption_key": "00112233445566778899AABBCCDDEEFF"})
        await wait_status(device, "ENCRYPTION KEY", timeout=60)
        # Within 2 frames of the wrong key: at most two frames failed to decrypt.
        assert 1 <= device.meter.problems[ProblemKind.DECRYPTION_FAILED] - failed <= 2
        assert device.latest is None
        assert "key" in device.meter.message.lower()
        await device.settings.aput("meter", {"encryption_key": key})  # no restart
        await wait_status(device, "OK", timeout=20)
        (report,) = await reports(device, 1)
    assert report.reading.protocol is MeterProtocol.DLMS  # type: ignore[attr-defined]
    assert device.meter.encrypted is True


@pytest.mark.xfail(strict=False, reason=(
    "known intermittent bug (about 1 run in 4 on 2026-12-03, also before that day's "
    "merges): after the meter moves from 115200 8N1 to 9600 7E1 the search can lock a "
    "setting of the wrong polarity and report OK there; to be found, not hidden"))
async def test_a_meter_that_changes_its_speed_is_found_again(tmp_path: Path) -> None:
    async with linked(tmp_path, "ensor-ers") as (device, line):
        await wait_status(device, "OK", timeout=30)
        line.set_meter_line(LineSettings.parse("9600 7E1"))
        await wait_status(device, "NO DATA", "RECOGNITION", timeout=30)
        await wait_status(device, "OK", timeout=60)
        await reports(device, 1)
        assert "9600 7E1" in device.meter.line


async def test_noise_from_the_control_api_is_not_recognized(tmp_path: Path) -> None:
    # The timings of the search are tested on simulated time (test_detection.py); here
    # the control API's noise reaches the real link.
    async with linked(tmp_path, "ensor-ers") as (device, _):
        device.ports.meter_control.apply({"silent": True, "noise_seconds": 3600})  # type: ignore[union-attr]
        await wait_status(device, "NOT RECOGNIZED", timeout=60)
        detection = device.diagnostics()["detection"]
    assert "no supported protocol fits" in detection["message"]
    assert detection["totals"]["framing_errors"] > 0


async def test_kmp_meter_values_agree_with_the_meter(tmp_path: Path) -> None:
    async with linked(tmp_path, "kamstrup-omnipower") as (device, line):
        (report,) = await reports(device, 1, timeout=60)
        snapshot = line.meter.state.advance(line.clock.time())
        reading = report.reading  # type: ignore[attr-defined]
        assert reading.identity.vendor == "Kamstrup"
        assert reading.values["1.8.0"] == pytest.approx(snapshot.values["1.8.0"], abs=50)
        assert reading.values["32.7.0"] == pytest.approx(snapshot.values["32.7.0"], abs=3)
        assert report_objects(reading) == {"objects": []}
        line.meter.silent = True
        await wait_status(device, "NO DATA", timeout=60)
        line.meter.silent = False
        await wait_status(device, "OK", timeout=60)


@pytest.mark.parametrize("profile", ["lg-e570", "kamstrup-omnipower", "iskra-am550",
                                     "tinetz-ma309", "netznoe-t210d", "wienernetze-im350",
                                     "netzburgenland-e450"])
async def test_profiles_over_a_real_pty(tmp_path: Path, profile: str) -> None:
    clock = ScaledClock(SPEED, ENSOR_MOMENT)
    meter = VirtualMeter(get_profile(profile), seed=1, start=clock.time(), zone=ZURICH)
    server = PtyMeterServer(meter, clock)
    path = await server.start()
    app = EmulatorApp(AppConfig(data_dir=tmp_path, meter=MeterSource.parse(path)), clock,
                      backoff=Backoff(0.1, 0.5), http=False)
    device = app.device
    # The installer enters the meter's keys, as a virtual meter's come entered.
    provision_virtual_meter(device, VirtualLine(meter, clock))
    await app.start()
    try:
        await wait_status(device, "OK", timeout=60)
        (report,) = await reports(device, 1)
    finally:
        await app.stop()
        await server.stop()
    assert report.reading.protocol is PROTOCOLS[profile][0]  # type: ignore[attr-defined]


async def test_replay_of_a_hex_capture(tmp_path: Path) -> None:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=ENSOR_MOMENT, zone=ZURICH)
    lines = []
    for _ in range(4):
        due = meter.next_push_at()
        assert due is not None
        lines.append(f"{due:.3f} {meter.push(due).hex(' ')}")
    capture = tmp_path / "p1.hex"
    capture.write_text("# four telegrams of ensor-ers\n" + "\n".join(lines) + "\n")
    assert [round(t, 3) for t, _ in parse_capture(capture.read_bytes())] == [0, 1, 2, 3]
    clock = ScaledClock(SPEED, ENSOR_MOMENT)
    app = EmulatorApp(AppConfig(data_dir=tmp_path / "data",
                                meter=MeterSource.parse(f"replay:{capture}")), clock,
                      backoff=Backoff(0.1, 0.5), http=False)
    sub = app.device.reports.subscribe(maxsize=8)
    await app.start()
    try:
        got = [await asyncio.wait_for(sub.get(), 30) for _ in range(3)]
    finally:
        sub.close()
        await app.stop()
    assert [r.reading.identity.meter_id for r in got] == ["20000741"] * 3
    assert got[-1].interval == pytest.approx(1.0, abs=0.3)


@pytest.mark.parametrize("profile", ["lg-e570", "kamstrup-omnipower"])
async def test_values_no_meter_holds_are_refused_and_the_meter_goes_on(
        tmp_path: Path, profile: str) -> None:
    async with linked(tmp_path, profile) as (device, _):
        control = device.ports.meter_control
        assert control is not None
        await wait_status(device, "OK", timeout=60)
        for bad in (1e308, -5, float("inf")):
            with pytest.raises(SettingsError, match=r"1\.8\.1"):
                control.apply({"values": {"1.8.1": bad}})
        assert "1.8.1" not in control.state()["values"]  # nothing was applied
        control.apply({"values": {"1.8.1": 123456.0}})
        (report,) = await reports(device, 1, timeout=60)
        assert report.reading.values["1.8.1"] == pytest.approx(123456.0, abs=1)  # type: ignore[attr-defined]
