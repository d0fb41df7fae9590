"""What the detector tells the link supervisor: actions to carry out, and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from meter_protocols.detect.plan import Candidate
from meter_protocols.status import MeterStatus  # the vocabulary, re-exported


class Phase(StrEnum):
    LISTEN = "listen"
    LOCKED = "locked"
    QUIET = "quiet"
    IDLE = "idle"


# --- actions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Apply:
    """Read with `candidate` from now on: reconfigure the port when `line_changed`, build a
    fresh decoder (or poller) of `candidate.family`, and feed it `replay` first (bytes already
    received at these same line settings)."""

    candidate: Candidate
    line_changed: bool
    replay: bytes = b""


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: MeterStatus
    message: str


@dataclass(frozen=True, slots=True)
class Redetect:
    """A locked line went bad; the search starts again (an Apply follows)."""

    reason: str


Action = Apply | StatusChange | Redetect


# --- diagnostics -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TryRecord:
    """One window: what was tried, for how long, and what was seen."""

    line: str
    family: str
    started: float
    duration: float
    bytes: int
    framing_errors: int
    parity_errors: int
    breaks: int
    frames: int
    crc_failures: int
    decryption_failures: int
    verdict: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "protocol": self.family, "started": round(self.started, 3),
                "duration": round(self.duration, 3), "bytes": self.bytes,
                "framing_errors": self.framing_errors, "parity_errors": self.parity_errors,
                "breaks": self.breaks, "frames": self.frames,
                "crc_failures": self.crc_failures,
                "decryption_failures": self.decryption_failures, "verdict": self.verdict}


@dataclass(frozen=True, slots=True)
class Counters:
    bytes: int = 0
    framing_errors: int = 0
    parity_errors: int = 0
    breaks: int = 0
    frames: int = 0
    crc_failures: int = 0
    decryption_failures: int = 0
    key_required: int = 0
    other_problems: int = 0


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """What the search has tried and seen, for /emulator/v1/meter and the logs."""

    status: MeterStatus
    phase: Phase
    message: str
    candidate: Candidate | None
    locked_since: float | None
    interval: float | None  # the meter's push (or answer) interval, once measured
    passes: int  # full passes over the candidates without a fit
    searching_for: float  # seconds since the current search began (0 when locked)
    totals: Counters
    tried: tuple[TryRecord, ...]

    def to_json(self) -> dict[str, Any]:
        cand = self.candidate
        return {
            "status": self.status.value,
            "phase": self.phase.value,
            "message": self.message,
            "line": str(cand.line) if cand else None,
            "protocol": cand.family.value if cand else None,
            "interface": cand.interface.value if cand else None,
            "locked_since": self.locked_since,
            "interval": None if self.interval is None else round(self.interval, 3),
            "passes": self.passes,
            "searching_for": round(self.searching_for, 3),
            "totals": {name: getattr(self.totals, name) for name in Counters.__slots__},
            "tried": [t.to_json() for t in self.tried],
        }




def bump(counters: Counters, **delta: int) -> Counters:
    values = {name: getattr(counters, name) for name in Counters.__slots__}
    for name, value in delta.items():
        values[name] += value
    return Counters(**values)
