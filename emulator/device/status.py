"""The meter status machine: the states /api/v1/system shows in meter.status.

States and what puts the device in them:

    NOT CONNECTED   no line: the port cannot be opened or was lost, or no signal at all
    RECOGNITION     the line is open and the device is searching for settings and protocol
    NO DATA         settings known (locked or fixed), but the meter stopped sending
    OK              frames decode
    KEY REQUIRED    frames arrive ciphered and no key is set
    ENCRYPTION KEY  a key is set but decryption or authentication fails
    NOT RECOGNIZED  bytes arrive but no supported protocol fits

Transitions are driven by link events; the table below is the whole machine.
"""

from __future__ import annotations

from enum import Enum

# One vocabulary for the link's detector and the device: the strings meter.status shows.
from meter_protocols.detect import MeterStatus

__all__ = ["DETECTOR_EVENTS", "LinkEvent", "MeterStatus", "next_status"]


class LinkEvent(Enum):
    LINE_LOST = "line lost"  # port closed, unplugged, meter process gone
    SEARCHING = "searching"  # line open, auto-detection running
    LISTENING = "listening"  # line open with known settings, nothing decoded yet
    FRAME = "frame"  # a frame decoded
    SILENCE = "silence"  # no frame for longer than the meter's cadence allows
    KEY_MISSING = "key missing"
    KEY_WRONG = "key wrong"
    UNRECOGNIZED = "unrecognized"


S, E = MeterStatus, LinkEvent

#: (current status, event) -> next status. Pairs not listed leave the status unchanged.
_EXPLICIT: dict[tuple[MeterStatus, LinkEvent], MeterStatus] = {
    # Silence only matters once something was received; a search keeps searching.
    (S.OK, E.SILENCE): S.NO_DATA,
    (S.KEY_REQUIRED, E.SILENCE): S.NO_DATA,
    (S.ENCRYPTION_KEY, E.SILENCE): S.NO_DATA,
    # While frames decode, a search round elsewhere does not hide that the meter is fine.
    (S.OK, E.LISTENING): S.OK,
}
#: Events that lead to the same status from anywhere (unless _EXPLICIT says otherwise).
_ANYWHERE: dict[LinkEvent, MeterStatus] = {
    E.LINE_LOST: S.NOT_CONNECTED,
    E.SEARCHING: S.RECOGNITION,
    E.LISTENING: S.NO_DATA,
    E.FRAME: S.OK,
    E.KEY_MISSING: S.KEY_REQUIRED,
    E.KEY_WRONG: S.ENCRYPTION_KEY,
    E.UNRECOGNIZED: S.NOT_RECOGNIZED,
}


#: What the link's detector reports, as events of this machine.
DETECTOR_EVENTS: dict[MeterStatus, LinkEvent] = {
    S.RECOGNITION: E.SEARCHING,
    S.NOT_CONNECTED: E.LINE_LOST,
    S.NO_DATA: E.SILENCE,
    S.OK: E.FRAME,
    S.KEY_REQUIRED: E.KEY_MISSING,
    S.ENCRYPTION_KEY: E.KEY_WRONG,
    S.NOT_RECOGNIZED: E.UNRECOGNIZED,
}


def next_status(current: MeterStatus, event: LinkEvent) -> MeterStatus:
    explicit = _EXPLICIT.get((current, event))
    if explicit is not None:
        return explicit
    if event is LinkEvent.SILENCE:
        return current
    return _ANYWHERE[event]
