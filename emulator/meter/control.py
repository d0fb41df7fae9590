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
            "interval_s": meter.profile.interval,
            "silent": meter.silent,
            "corrupt_frames": meter.corrupt_frames,
            "drop_rate": wire.faults.drop_rate,
            "flip_rate": wire.faults.flip_rate,
            "meter_line": str(wire.meter_settings),
            "values": dict(meter.state.overrides),
            "keys": None if not (keys := meter.profile.keys) or not keys.encryption_key
            else {"encryption_key": keys.encryption_key,
                  "authentication_key": keys.authentication_key},
        }

    def apply(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate everything first, then change: an invalid request changes nothing."""
        steps = [self._step(key, value) for key, value in changes.items()]
        for step in steps:
            step()
        return self.state()

    def undo(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The request that puts back what `changes` would change (validated as apply
        does, so an invalid request raises before anything is computed). A noise burst
        ends by itself and has no undo."""
        for key, value in changes.items():
            self._step(key, value)
        meter = self.line.meter
        before = self.state()
        undo: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("silent", "corrupt_frames", "drop_rate", "flip_rate", "meter_line"):
                undo[key] = before[key]
            elif key == "values":
                undo[key] = {short: meter.state.overrides.get(short)
                             for short in _overrides(value)}
            elif key == "key":
                undo[key] = before["keys"]
        return undo

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
        if key == "key":
            return self._key_step(value)
        raise SettingsError(f"{key}: not a meter control (silent, corrupt_frames, drop_rate, "
                            "flip_rate, noise_seconds, meter_line, values, key, duration_s)")

    def _key_step(self, value: Any) -> Any:
        """{"encryption_key": HEX32, "authentication_key": HEX32 (optional: kept)}: the
        meter's own keys change, so the key entered in the device becomes wrong."""
        meter = self.line.meter
        keys = meter.profile.keys
        if keys is None or not keys.encryption_key:
            raise SettingsError(f"key: {meter.profile.name} sends in clear; choose a "
                                "ciphering profile (e.g. virtual:lg-e570)")
        if not isinstance(value, dict) or not isinstance(value.get("encryption_key"), str):
            raise SettingsError('key: expected {"encryption_key": 32 hex digits, '
                                '"authentication_key": 32 hex digits}')
        encryption = value["encryption_key"]
        authentication = value.get("authentication_key", keys.authentication_key)
        if not isinstance(authentication, str):
            raise SettingsError("key: authentication_key: expected 32 hex digits")
        for name, text in (("encryption_key", encryption),
                           ("authentication_key", authentication)):
            if text and (len(text) != 32 or any(c not in "0123456789abcdefABCDEF"
                                                for c in text)):
                raise SettingsError(f"key: {name}: expected 32 hex digits")
        if not encryption:
            raise SettingsError("key: encryption_key: expected 32 hex digits")
        return lambda: meter.set_keys(encryption, authentication)


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
