"""The meter status vocabulary, and the one rule for when a meter counts as silent.

`MeterStatus` holds the strings `meter.status` shows in /api/v1/system, the report and the
variables. It lives here, outside the detector, because the device, the API and the
services speak it without needing the detector. The silence rule is used by the detector,
which watches the line; the device takes its NO DATA from there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class MeterStatus(StrEnum):
    """meter.status as /api/v1/system and the variables show it."""

    NOT_CONNECTED = "NOT CONNECTED"
    NO_DATA = "NO DATA"
    RECOGNITION = "RECOGNITION"
    OK = "OK"
    ENCRYPTION_KEY = "ENCRYPTION KEY"
    KEY_REQUIRED = "KEY REQUIRED"
    NOT_RECOGNIZED = "NOT RECOGNIZED"


#: A locked meter is silent after this many of its intervals plus SILENCE_MARGIN...
SILENCE_INTERVALS: Final = 3.0
SILENCE_MARGIN: Final = 1.0
#: ... and never sooner than this (seconds).
SILENCE_MINIMUM: Final = 5.0


def silence_limit(interval: float) -> float:
    """Seconds without a byte (a push meter) or an answer (a pull meter) after which a
    meter read at known settings is NO DATA, given its interval. The interval must be a
    robust estimate (the detector takes the median of the last frames' spacing, so one
    outage does not stretch it); before two frames are seen, the slowest interval of the
    protocol family stands in."""
    return max(SILENCE_INTERVALS * interval + SILENCE_MARGIN, SILENCE_MINIMUM)
