"""Steering a virtual meter at run time (the emulator control API's meter part): silence,
corrupted frames, wire faults, a meter that changes its speed, forced values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from emulator.device.errors import SettingsError
from emulator.meter.virtual_line import VirtualLine
from meter_protocols.errors import ProtocolError, ValueRangeError
from meter_protocols.line import LineSettings
from meter_protocols.simulator.state import check_forced
from meter_protocols.uart import NoiseBurst


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise SettingsError(f"{name}: expected a number 0..1")
    return float(value)


class VirtualMeterControl:
    """Implements the device's MeterControl for an in-process virtual meter."""

    def __init__(self, line: VirtualLine) -> None:
        self.line = line

    def state(self) -> dict[str, Any]:
        meter, wire = self.line.meter, self.line.wire
        return {
            "profile": meter.profile.name,
            "silent": meter.silent,
            "corrupt_frames": meter.corrupt_frames,
            "drop_rate": wire.faults.drop_rate,
            "flip_rate": wire.faults.flip_rate,
            "meter_line": str(wire.meter_settings),
            "values": dict(meter.state.overrides),
        }

    def apply(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate everything first, then change: an invalid request changes nothing."""
        steps = [self._step(key, value) for key, value in changes.items()]
        for step in steps:
            step()
        return self.state()

    def _step(self, key: str, value: Any) -> Any:
        meter, line = self.line.meter, self.line
        if key == "silent":
            if not isinstance(value, bool):
                raise SettingsError("silent: expected true or false")
            return lambda: setattr(meter, "silent", value)
        if key == "corrupt_frames":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SettingsError("corrupt_frames: expected a count >= 0")
            return lambda: setattr(meter, "corrupt_frames", value)
        if key == "drop_rate":
            rate = _rate(key, value)
            return lambda: line.set_faults(replace(line.wire.faults, drop_rate=rate))
        if key == "flip_rate":
            rate = _rate(key, value)
            return lambda: line.set_faults(replace(line.wire.faults, flip_rate=rate))
        if key == "noise_seconds":
            if isinstance(value, bool) or not isinstance(value, int | float) or not \
                    0 < value <= 3600:
                raise SettingsError("noise_seconds: expected seconds 0..3600")
            return lambda: line.set_faults(replace(line.wire.faults, noise=(
                NoiseBurst(line._wire_now(), float(value)),)))
        if key == "meter_line":
            try:
                settings = LineSettings.parse(str(value))
            except ProtocolError as exc:
                raise SettingsError(f"meter_line: {exc}") from exc
            return lambda: line.set_meter_line(settings)
        if key == "values":
            overrides = _overrides(value)
            return lambda: meter.force(overrides)
        raise SettingsError(f"{key}: not a meter control (silent, corrupt_frames, drop_rate, "
                            "flip_rate, noise_seconds, meter_line, values)")


def _overrides(value: Any) -> dict[str, float | None]:
    """Forced values as the meter can hold them (the simulator's rule: a finite number from
    0 to its maximum, in base units, for a numeric register), or a 400 naming the register;
    nothing is applied unless all of them are valid."""
    if not isinstance(value, dict):
        raise SettingsError("values: expected an object of OBIS C.D.E -> number or null")
    try:
        return check_forced(value)
    except ValueRangeError as exc:
        raise SettingsError(f"values: {exc}") from exc
