"""Finding a meter's line settings and protocol: sniffing, evidence from UART errors, and
the candidate search as a sans-I/O state machine (see machine.py for the phases and
transitions, plan.py for the candidates and every timing decision)."""

from meter_protocols.detect.evidence import Evidence, analyse
from meter_protocols.detect.machine import LinkDetector
from meter_protocols.detect.outcome import (
    Action,
    Apply,
    Counters,
    Diagnostics,
    Phase,
    Redetect,
    StatusChange,
    TryRecord,
)
from meter_protocols.detect.plan import (
    Candidate,
    DetectConfig,
    IfMode,
    IfType,
    ProtocolChoice,
    candidates,
)
from meter_protocols.detect.sniff import Family, Sniff, sniff
from meter_protocols.detect.transitions import TRANSITIONS, Trigger
from meter_protocols.status import MeterStatus

__all__ = [
    "TRANSITIONS",
    "Action",
    "Apply",
    "Candidate",
    "Counters",
    "DetectConfig",
    "Diagnostics",
    "Evidence",
    "Family",
    "IfMode",
    "IfType",
    "LinkDetector",
    "MeterStatus",
    "Phase",
    "ProtocolChoice",
    "Redetect",
    "Sniff",
    "StatusChange",
    "Trigger",
    "TryRecord",
    "analyse",
    "candidates",
    "sniff",
]
