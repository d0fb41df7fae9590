"""A virtual meter, sans-I/O: asked for the frame due at t, or fed a request, it answers bytes.

The I/O side (the emulator's in-process wire, a pty, a TCP server) schedules calls to
`push(t)` at `next_push_at()` and passes the gateway's bytes to `receive()`. Frames are
produced on an exact time grid (start + k * interval) whatever the scheduler's jitter, so
the same seed and start always give the same values.
"""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

from meter_protocols.errors import ProtocolError
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
        self._frames = 0
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

    def next_push_at(self) -> float | None:
        if self._encoder is None:
            return None
        return self._start + (self._frames + 1) * self.profile.interval

    def push(self, t: float) -> bytes:
        """The frame due at t (call with the value next_push_at() returned)."""
        if self._encoder is None:
            return b""
        self._frames += 1
        snapshot = self.state.advance(t)
        frame = self._encoder.encode(snapshot)
        if self.silent:
            return b""
        return self._maybe_corrupt(frame)

    def receive(self, data: bytes, t: float) -> bytes:
        if self._responder is None:
            return b""
        answer = self._responder.receive(data, lambda: self.state.advance(t))
        if self.silent:
            return b""
        return self._maybe_corrupt(answer) if answer else answer

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
