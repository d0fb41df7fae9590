"""The detector's phases, the triggers that move it, and its tuning constants.

Phases and transitions (the only place they are decided; `TRANSITIONS` is this table):

| phase   | trigger    | next    | what happens                                           |
|---------|------------|---------|--------------------------------------------------------|
| LISTEN  | FRAME      | LOCKED  | status OK                                              |
| LISTEN  | CIPHERED   | LOCKED  | status KEY REQUIRED (no key) / ENCRYPTION KEY (wrong), |
|         |            |         | or NOT RECOGNIZED (whole frames, layout not known)     |
| LISTEN  | BURST_END  | LISTEN  | judge the burst: wait on, switch family (same line,   |
|         |            |         | bytes replayed) or take the next candidate by evidence |
| LISTEN  | BUSY       | LISTEN  | bytes without pause and no frame: judged like a burst  |
| LISTEN  | WINDOW_END | LISTEN  | silence: alternate the best push candidate and the pull probes |
| LOCKED  | FRAME      | LOCKED  | status OK                                              |
| LOCKED  | CIPHERED   | LOCKED  | key statuses                                           |
| LOCKED  | SILENCE    | QUIET   | status NO DATA (pull meters: no answer, echoes aside)  |
| LOCKED  | GARBAGE    | LISTEN  | bytes but no frame for 3 intervals and 2 bursts: Redetect |
| QUIET   | FRAME      | LOCKED  | status OK                                              |
| QUIET   | CIPHERED   | LOCKED  | key statuses                                           |
| QUIET   | GARBAGE    | LISTEN  | the meter is back but speaks differently: Redetect     |
| any     | CONFIG     | LISTEN  | settings changed in a way the lock does not survive    |
| IDLE    | CONFIG     | LISTEN  | (IDLE: the settings allow no supported protocol)       |

Status while LISTEN: RECOGNITION; NOT CONNECTED once no byte has arrived for the longest
listen time of the allowed families; NOT RECOGNIZED after a full pass with bytes and no fit,
or after GIVE_UP seconds of bytes without a fit (the search goes on either way). IDLE shows
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from meter_protocols.detect.outcome import Phase


class Trigger(StrEnum):
    FRAME = "frame"
    CIPHERED = "ciphered"  # whole frames that give no report: keys, or an unknown layout
    BURST_END = "burst_end"
    BUSY = "busy"
    WINDOW_END = "window_end"
    SILENCE = "silence"
    GARBAGE = "garbage"
    CONFIG = "config"


TRANSITIONS: Final[dict[tuple[Phase, Trigger], Phase]] = {
    (Phase.LISTEN, Trigger.FRAME): Phase.LOCKED,
    (Phase.LISTEN, Trigger.CIPHERED): Phase.LOCKED,
    (Phase.LISTEN, Trigger.BURST_END): Phase.LISTEN,
    (Phase.LISTEN, Trigger.BUSY): Phase.LISTEN,
    (Phase.LISTEN, Trigger.WINDOW_END): Phase.LISTEN,
    (Phase.LOCKED, Trigger.FRAME): Phase.LOCKED,
    (Phase.LOCKED, Trigger.CIPHERED): Phase.LOCKED,
    (Phase.LOCKED, Trigger.SILENCE): Phase.QUIET,
    (Phase.LOCKED, Trigger.GARBAGE): Phase.LISTEN,
    (Phase.QUIET, Trigger.FRAME): Phase.LOCKED,
    (Phase.QUIET, Trigger.CIPHERED): Phase.LOCKED,
    (Phase.QUIET, Trigger.GARBAGE): Phase.LISTEN,
    (Phase.LISTEN, Trigger.CONFIG): Phase.LISTEN,
    (Phase.LOCKED, Trigger.CONFIG): Phase.LISTEN,
    (Phase.QUIET, Trigger.CONFIG): Phase.LISTEN,
    (Phase.IDLE, Trigger.CONFIG): Phase.LISTEN,
}

#: Windows remembered in the diagnostics.
HISTORY: Final = 32
#: Evidence remembered during one search, and how much older evidence counts.
EVIDENCE_KEPT: Final = 6
EVIDENCE_DECAY: Final = 0.7
#: Bonus for the family that was locked before a re-detection.
SAME_FAMILY_BONUS: Final = 15.0
#: Penalty for pull candidates once the meter has been heard sending unasked.
PUSH_SEEN_PENALTY: Final = 50.0
#: A clean burst of the expected protocol without a frame (joined mid-frame) is waited out
#: this many times before the candidate counts as failed.
CLEAN_STRIKES: Final = 2
