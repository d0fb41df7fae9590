"""Steering a virtual meter: every change validated before any is made."""

from __future__ import annotations

import pytest

from emulator.device.clock import ScaledClock
from emulator.device.errors import SettingsError
from emulator.meter.control import VirtualMeterControl
from emulator.meter.virtual_line import VirtualLine
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from tests.support import ENSOR_MOMENT


@pytest.fixture
def control() -> VirtualMeterControl:
    clock = ScaledClock(1.0, ENSOR_MOMENT)
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=ENSOR_MOMENT)
    return VirtualMeterControl(VirtualLine(meter, clock))


def test_state_reports_what_is_set(control: VirtualMeterControl) -> None:
    state = control.apply({"silent": True, "corrupt_frames": 3, "drop_rate": 0.01,
                           "meter_line": "9600 7E1", "values": {"1.7.0": 2500}})
    assert state == {"profile": "ensor-ers", "interval_s": 1.0, "keys": None,
                     "silent": True, "corrupt_frames": 3, "drop_rate": 0.01,
                     "flip_rate": 0.0, "meter_line": "9600 7E1",
                     "values": {"1.7.0": 2500.0}}
    assert control.line.meter.snapshot(ENSOR_MOMENT + 5).values["1.7.0"] == 2500.0
    assert control.apply({"values": {"1.7.0": None}})["values"] == {}


@pytest.mark.parametrize("changes", [
    {"silent": "yes"}, {"corrupt_frames": -1}, {"drop_rate": 1.5}, {"flip_rate": True},
    {"meter_line": "fast"}, {"values": {"96.1.0": 1}}, {"values": {"1.7.0": -5}},
    {"values": [1]}, {"noise_seconds": 0}, {"warp": 9},
])
def test_an_invalid_change_changes_nothing(control: VirtualMeterControl,
                                           changes: dict[str, object]) -> None:
    before = control.state()
    with pytest.raises(SettingsError):
        control.apply({"silent": True, **changes})
    assert control.state() == before


def test_undo_puts_back_what_a_request_changes(control: VirtualMeterControl) -> None:
    control.apply({"values": {"1.7.0": 100}, "drop_rate": 0.2})
    changes = {"silent": True, "values": {"1.7.0": 5, "2.7.0": 7}, "drop_rate": 0.5}
    undo = control.undo(changes)
    assert undo == {"silent": False, "values": {"1.7.0": 100.0, "2.7.0": None},
                    "drop_rate": 0.2}
    control.apply(changes)
    state = control.apply(undo)
    assert (state["silent"], state["values"], state["drop_rate"]) == (False, {"1.7.0": 100.0},
                                                                      0.2)


def test_a_meter_in_clear_has_no_key_to_change(control: VirtualMeterControl) -> None:
    with pytest.raises(SettingsError, match="sends in clear"):
        control.apply({"key": {"encryption_key": "00" * 16}})


def test_a_ciphering_meter_changes_its_keys() -> None:
    clock = ScaledClock(1.0, ENSOR_MOMENT)
    meter = VirtualMeter(get_profile("kaifa-ma309"), seed=1, start=ENSOR_MOMENT)
    control = VirtualMeterControl(VirtualLine(meter, clock))
    before = control.state()["keys"]
    with pytest.raises(SettingsError, match="32 hex digits"):
        control.apply({"key": {"encryption_key": "XY" * 16}})
    assert control.state()["keys"] == before
    undo = control.undo({"key": {"encryption_key": "ab" * 16}})
    state = control.apply({"key": {"encryption_key": "ab" * 16}})
    assert state["keys"]["encryption_key"] == "AB" * 16
    assert control.apply(undo)["keys"] == before
