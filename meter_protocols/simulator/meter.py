"""A virtual meter, sans-I/O: asked for the frame due at t, or fed a request, it answers bytes.

The I/O side (the emulator's in-process wire, a pty, a TCP server) schedules calls to
`push(t)` at `next_push_at()` and passes the gateway's bytes to `receive()`. Frames are
produced on an exact time grid (start + k * interval) whatever the scheduler's jitter, so
the same seed and start always give the same values.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from meter_protocols.errors import ProtocolError
from meter_protocols.guard import INPUT_FAULTS
from meter_protocols.line import LineSettings
from meter_protocols.simulator.load import LoadModel
from meter_protocols.simulator.profile import Profile, PushEncoder, Responder
from meter_protocols.simulator.state import MeterSnapshot, MeterState


class VirtualMeter:
    def __init__(self, profile: Profile, *, seed: int, start: float,
                 zone: ZoneInfo | None = None) -> None:
        self.profile = profile
        self.seed = seed
        self.state = MeterState(
            LoadModel(profile.load, seed, profile.phases),
            start,
            zone or ZoneInfo("Europe/Zurich"),
            initial=profile.initial,
            tariff_schedule=profile.tariff_schedule,
            clock_drift_s=profile.clock_drift_s,
        )
        self._start = start
        self._next = 1  # the next frame is due at start + _next * interval
        self.frames = 0  # frames produced
        self.skipped = 0  # frames left out because the clock jumped forward
        self.faults = 0  # frames or answers that could not be encoded (see push)
        self._encoder: PushEncoder | None = None
        self._responder: Responder | None = None
        if profile.mode == "push":
            if profile.encoder is None:
                raise ProtocolError(f"push profile {profile.name} has no encoder")
            self._encoder = profile.encoder(profile)
        else:
            if profile.responder is None:
                raise ProtocolError(f"pull profile {profile.name} has no responder")
            self._responder = profile.responder(profile)
        # Faults a test or a demo can switch on (the emulator's control API steers these).
        self.silent = False
        self.corrupt_frames = 0  # the next N frames get one byte flipped
        self._fault_rng = random.Random(seed ^ 0xFA17)

    @property
    def line(self) -> LineSettings:
        return self.profile.line

    def next_push_at(self, now: float | None = None) -> float | None:
        """When the next frame is due (None: a pull meter, which only answers).

        Given the clock's `now`, the schedule first follows a clock that jumped, as a
        meter's own clock would: set forward by more than an interval, the frames of the gap
        are not made up (the one due last is sent now, `skipped` counts the others); set
        back, the next frame is the first of the grid after `now`, not one as late as the
        jump. A frame merely late (a busy scheduler) is still due.
        """
        if self._encoder is None:
            return None
        if now is not None and math.isfinite(now):
            interval = self.profile.interval
            due = self._due(self._next)
            if now >= due + interval or now < due - interval:
                latest = math.floor((now - self._start) / interval)
                nxt = latest if now >= due else latest + 1
                self.skipped += max(0, nxt - self._next)
                self._next = nxt
        return self._due(self._next)

    def _due(self, index: int) -> float:
        return self._start + index * self.profile.interval

    def push(self, t: float) -> bytes:
        """The frame due at t (call with the value next_push_at() returned).

        Never raises: a frame the encoder cannot make (a bug; every value a register cannot
        hold is saturated by the encoders) is left out and counted in `faults`.
        """
        if self._encoder is None:
            return b""
        self._next += 1
        self.frames += 1
        snapshot = self.state.advance(t)
        try:
            frame = self._encoder.encode(snapshot)
        except INPUT_FAULTS:
            self.faults += 1
            return b""
        if self.silent:
            return b""
        return self._maybe_corrupt(frame)

    def receive(self, data: bytes, t: float) -> bytes:
        if self._responder is None:
            return b""
        answer = self._responder.receive(data, lambda: self.state.advance(t))
        self.faults = getattr(self._responder, "faults", 0)
        if self.silent:
            return b""
        return self._maybe_corrupt(answer) if answer else answer

    def force(self, values: Mapping[str, object]) -> None:
        """Force register values in base units, None releases (MeterState.force)."""
        self.state.force(values)

    def set_keys(self, encryption_key: str, authentication_key: str) -> None:
        """Change the keys a ciphering meter uses from its next frame on; raises
        ProtocolError for a meter that sends in clear or a key that is not 32 hex digits."""
        keys = self.profile.keys
        rekey = getattr(self._encoder, "rekey", None)
        if keys is None or not keys.encryption_key or rekey is None:
            raise ProtocolError(f"{self.profile.name} sends in clear: it has no keys")
        rekey(encryption_key, authentication_key)
        self.profile = dataclasses.replace(self.profile, keys=dataclasses.replace(
            keys, encryption_key=encryption_key.upper(),
            authentication_key=authentication_key.upper()))

    def snapshot(self, t: float) -> MeterSnapshot:
        return self.state.advance(t)

    def _maybe_corrupt(self, frame: bytes) -> bytes:
        if self.corrupt_frames <= 0 or not frame:
            return frame
        self.corrupt_frames -= 1
        data = bytearray(frame)
        # Flip a digit-ish byte well inside the frame so framing still finds it.
        index = self._fault_rng.randrange(len(data) // 4, max(len(data) // 4 + 1,
                                                              3 * len(data) // 4))
        data[index] ^= 0x01
        return bytes(data)
