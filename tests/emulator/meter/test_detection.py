"""Detection end to end through the product's own link supervisor, on simulated time
(detection_sim.py): every profile from factory settings, a meter that changes its speed,
noise, silence, inverted and 7E1 lines, keys, fixed settings, the interface type, the line
probe, and a pull meter that stops answering."""

from __future__ import annotations

import pytest

from emulator.meter.virtual_line import VirtualLine
from meter_protocols.detect import Family
from meter_protocols.line import LineSettings
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profile import MeterKeys
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.status import MeterStatus
from meter_protocols.uart import Faults, NoiseBurst
from tests.emulator.meter.detection_sim import T0, simulate

S = MeterStatus
CIPHERED = [name for name in ("kaifa-ma309", "iskra-am550") if name in PROFILES]


def mute(meter: VirtualMeter, line: VirtualLine) -> None:
    meter.silent = True


def unmute(meter: VirtualMeter, line: VirtualLine) -> None:
    meter.silent = False


async def test_ensor_reaches_ok_quickly_with_the_status_sequence() -> None:
    result = await simulate("ensor-ers", duration=10, stop_on_ok=True)
    assert result.sequence() == [S.RECOGNITION, S.OK]
    ok = result.first(S.OK)
    assert ok is not None
    assert ok <= 3 * get_profile("ensor-ers").interval + 0.5
    assert result.detector is not None
    cand = result.detector.candidate
    assert cand is not None
    assert str(cand.line) == "115200 8N1"
    assert cand.family is Family.DSMR


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_every_profile_reaches_ok_from_factory_settings(profile: str) -> None:
    prof = get_profile(profile)
    result = await simulate(profile, duration=25, stop_on_ok=True)
    ok = result.first(S.OK)
    assert ok is not None, result.diagnostics
    assert ok <= 20.0
    assert result.sequence() == [S.RECOGNITION, S.OK]
    # At most three report intervals after the right line was first applied.
    first_right = min(t for t, line in result.tried if line == str(prof.line))
    assert ok - first_right <= 3 * prof.interval + 0.5
    assert result.detector is not None
    cand = result.detector.candidate
    assert cand is not None
    assert cand.line == prof.line
    assert cand.interface is prof.interface


async def test_meter_changing_from_115200_8n1_to_9600_7e1_is_found_again() -> None:
    def slow_down(meter: VirtualMeter, line: VirtualLine) -> None:
        line.set_meter_line(LineSettings.parse("9600 7E1"))

    result = await simulate("ensor-ers", duration=60, events={20.0: slow_down})
    assert result.sequence() == [S.RECOGNITION, S.OK, S.RECOGNITION, S.OK]
    assert len(result.redetects) == 1
    assert "no frame decoded" in result.redetects[0][1]
    back = result.first(S.OK, after=20.0)
    assert back is not None
    assert back - 20.0 <= 20.0
    assert result.detector is not None
    cand = result.detector.candidate
    assert cand is not None
    assert str(cand.line) == "9600 7E1"


async def test_pure_noise_is_not_recognized_and_the_search_goes_on() -> None:
    noise = Faults(noise=(NoiseBurst(0.0, 1000.0, rate=3000),))
    result = await simulate("ensor-ers", duration=90, noise_only=True, faults=noise)
    assert result.sequence() == [S.RECOGNITION, S.NOT_RECOGNIZED]
    gave_up = result.first(S.NOT_RECOGNIZED)
    assert gave_up is not None
    assert gave_up <= 60.0
    assert any(t > gave_up for t, _ in result.tried)  # still trying
    assert "no supported protocol fits" in result.diagnostics["message"]
    assert result.diagnostics["totals"]["framing_errors"] > 0
    # A meter on the P1 connector: the device searches the P1 lines, every one of them.
    assert result.lines() == {"115200 8N1", "9600 7E1", "115200 8N1 inverted",
                              "9600 7E1 inverted"}


async def test_noise_after_a_lock_redetects_then_is_not_recognized() -> None:
    def silent_noise(meter: VirtualMeter, line: VirtualLine) -> None:
        meter.silent = True
        line.set_faults(Faults(noise=(NoiseBurst(10.0, 3600.0, rate=3000),)))

    result = await simulate("ensor-ers", duration=40, events={10.0: silent_noise})
    assert result.sequence() == [S.RECOGNITION, S.OK, S.RECOGNITION, S.NOT_RECOGNIZED]
    assert len(result.redetects) == 1
    assert "no frame decoded" in result.redetects[0][1]
    after = {line for t, line in result.tried if t > 10.0}
    assert after == {"115200 8N1", "9600 7E1", "115200 8N1 inverted", "9600 7E1 inverted"}


async def test_no_signal_is_not_connected_until_the_meter_starts() -> None:
    result = await simulate("lg-e570", duration=40, events={0.0: mute, 25.0: unmute})
    assert result.sequence() == [S.RECOGNITION, S.NOT_CONNECTED, S.RECOGNITION, S.OK]
    silent = result.first(S.NOT_CONNECTED)
    assert silent is not None
    assert 15.0 <= silent <= 17.0
    ok = result.first(S.OK)
    assert ok is not None
    assert ok <= 25.0 + 3 * 3.0 + 0.5


async def test_locked_meter_going_quiet_shows_no_data_then_ok_again() -> None:
    result = await simulate("ensor-ers", duration=40, events={10.0: mute, 30.0: unmute})
    assert result.sequence() == [S.RECOGNITION, S.OK, S.NO_DATA, S.OK]
    quiet = result.first(S.NO_DATA)
    assert quiet is not None
    assert 14.0 <= quiet <= 16.5  # the one silence rule: 3 intervals + 1 s, at least 5 s
    assert not result.redetects


async def test_inverted_line_is_found() -> None:
    result = await simulate("ensor-ers", duration=20, stop_on_ok=True,
                            meter_line=LineSettings.parse("115200 8N1 inverted"))
    assert result.first(S.OK) is not None
    assert result.detector is not None
    cand = result.detector.candidate
    assert cand is not None
    assert cand.line.inverted


async def test_dsmr_2_2_style_7e1_meter_is_found() -> None:
    result = await simulate("ensor-ers", duration=20, stop_on_ok=True,
                            meter_line=LineSettings.parse("9600 7E1"))
    ok = result.first(S.OK)
    assert ok is not None
    assert ok <= 10.0
    assert result.detector is not None
    assert result.detector.candidate is not None
    assert str(result.detector.candidate.line) == "9600 7E1"


@pytest.mark.parametrize("profile", CIPHERED)
async def test_ciphered_meter_without_key_is_key_required(profile: str) -> None:
    result = await simulate(profile, duration=25, device_keys=MeterKeys())
    assert result.sequence() == [S.RECOGNITION, S.KEY_REQUIRED]
    assert "no key is set" in result.diagnostics["message"]
    assert result.diagnostics["totals"]["key_required"] >= 1


@pytest.mark.parametrize("profile", CIPHERED)
async def test_ciphered_meter_with_a_wrong_key_is_encryption_key(profile: str) -> None:
    wrong = MeterKeys(encryption_key="00112233445566778899AABBCCDDEEFF")
    result = await simulate(profile, duration=25, device_keys=wrong)
    assert result.sequence() == [S.RECOGNITION, S.ENCRYPTION_KEY]
    assert "the key is wrong" in result.diagnostics["message"]
    assert result.diagnostics["totals"]["decryption_failures"] >= 1
    # ENCRYPTION KEY as soon as the first ciphered frame was read on the right line.
    prof = get_profile(profile)
    first_right = min(t for t, line in result.tried if line == str(prof.line))
    shown = result.first(S.ENCRYPTION_KEY)
    assert shown is not None
    assert shown - first_right <= 2 * prof.interval + 1.0


async def test_fixed_settings_never_leave_the_given_line() -> None:
    wrong = {"auto_baudrate": False, "baudrate": 9600, "parity": "none"}
    result = await simulate("lg-e570", duration=70, settings=wrong)
    assert result.lines() == {"9600 8N1"}
    assert result.final is S.NOT_RECOGNIZED
    right = {"auto_baudrate": False, "baudrate": 2400, "parity": "even"}
    ok = await simulate("lg-e570", duration=15, settings=right, stop_on_ok=True)
    assert ok.lines() == {"2400 8E1"}
    assert ok.final is S.OK


async def test_if_type_p1_only_tries_p1_lines() -> None:
    result = await simulate("ensor-ers", duration=10, settings={"if_type": "p1"},
                            stop_on_ok=True, meter_line=LineSettings.parse("9600 7E1"))
    assert result.lines() <= {"115200 8N1", "9600 7E1", "115200 8N1 inverted",
                              "9600 7E1 inverted"}
    assert result.final is S.OK


async def test_the_line_probe_of_the_virtual_wire_steers_the_search() -> None:
    # The product measures the virtual wire's RX pin: a slow inverted meter is found no
    # later than from the bytes alone.
    inverted = LineSettings.parse("2400 8E1 inverted")
    probed = await simulate("lg-e570", duration=30, stop_on_ok=True, meter_line=inverted)
    blind = await simulate("lg-e570", duration=30, stop_on_ok=True, meter_line=inverted,
                           probe=False)
    t_probed, t_blind = probed.first(S.OK), blind.first(S.OK)
    assert t_probed is not None
    assert t_blind is not None
    assert t_probed <= t_blind
    assert "2400 8E1 inverted" in probed.lines()


async def test_pull_meter_that_stops_answering_is_no_data_then_ok() -> None:
    result = await simulate("kamstrup-omnipower", duration=60,
                            events={15.0: mute, 40.0: unmute})
    assert result.sequence() == [S.RECOGNITION, S.OK, S.NO_DATA, S.OK]
    assert not result.redetects


def test_the_simulation_starts_at_a_fixed_instant() -> None:
    assert T0 == 1_750_000_000.0
