"""The meter status machine: the one owner of `meter.status`.

Every input that moves the status comes here as a `LinkEvent`: what the link's detector
finds (searching, recognised, not recognised, silent: the detector holds the one silence
rule, `meter_protocols.status.silence_limit`), what the decoders report (a frame, a missing
or wrong key, a frame with no known value), and the line itself (lost). The table below is
the whole machine; docs/meter-status.md is generated from it (`describe()`), and a test
keeps the two equal.

States:

    NOT CONNECTED   no line: the port cannot be opened or was lost, or no signal at all
    RECOGNITION     the line is open and the device is searching for settings and protocol
    NO DATA         settings known (locked or fixed), but the meter stopped sending
    OK              frames decode (and a report with values exists)
    KEY REQUIRED    frames arrive ciphered and no key is set
    ENCRYPTION KEY  a key is set but decryption or authentication fails
    NOT RECOGNIZED  bytes arrive but no supported protocol or layout fits
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from typing import Final, Protocol

from meter_protocols.readings import ProblemKind
from meter_protocols.status import MeterStatus

__all__ = ["DETECTOR_EVENTS", "PROBLEM_EVENTS", "LinkEvent", "MeterStatus", "StatusMachine",
           "describe", "next_status"]


class LinkEvent(Enum):
    LINE_LOST = "line lost"  # port closed, unplugged, meter process gone
    SEARCHING = "searching"  # line open, auto-detection running
    LISTENING = "listening"  # line open with known settings, nothing decoded yet
    FRAME = "frame"  # a frame decoded to a report
    SILENCE = "silence"  # the detector: no byte (or answer) for longer than the rule allows
    KEY_MISSING = "key missing"
    KEY_WRONG = "key wrong"
    UNRECOGNIZED = "unrecognized"


S, E = MeterStatus, LinkEvent

#: (current status, event) -> next status. Pairs not listed follow _ANYWHERE.
_EXPLICIT: Final[dict[tuple[MeterStatus, LinkEvent], MeterStatus]] = {
    # Silence only matters once something was received; a search keeps searching.
    (S.OK, E.SILENCE): S.NO_DATA,
    (S.KEY_REQUIRED, E.SILENCE): S.NO_DATA,
    (S.ENCRYPTION_KEY, E.SILENCE): S.NO_DATA,
    (S.NOT_RECOGNIZED, E.SILENCE): S.NO_DATA,
    # While frames decode, a search round elsewhere does not hide that the meter is fine.
    (S.OK, E.LISTENING): S.OK,
}
#: Events that lead to the same status from anywhere (unless _EXPLICIT says otherwise);
#: SILENCE from any other status leaves it as it is.
_ANYWHERE: Final[dict[LinkEvent, MeterStatus]] = {
    E.LINE_LOST: S.NOT_CONNECTED,
    E.SEARCHING: S.RECOGNITION,
    E.LISTENING: S.NO_DATA,
    E.FRAME: S.OK,
    E.KEY_MISSING: S.KEY_REQUIRED,
    E.KEY_WRONG: S.ENCRYPTION_KEY,
    E.UNRECOGNIZED: S.NOT_RECOGNIZED,
}

#: What the link's detector reports, as events of this machine.
DETECTOR_EVENTS: Final[dict[MeterStatus, LinkEvent]] = {
    S.RECOGNITION: E.SEARCHING,
    S.NOT_CONNECTED: E.LINE_LOST,
    S.NO_DATA: E.SILENCE,
    S.OK: E.FRAME,
    S.KEY_REQUIRED: E.KEY_MISSING,
    S.ENCRYPTION_KEY: E.KEY_WRONG,
    S.NOT_RECOGNIZED: E.UNRECOGNIZED,
}

#: Decoder problems that move the status; the others are only counted.
PROBLEM_EVENTS: Final[dict[ProblemKind, LinkEvent]] = {
    ProblemKind.KEY_REQUIRED: E.KEY_MISSING,
    ProblemKind.DECRYPTION_FAILED: E.KEY_WRONG,
    # A frame that decodes to no value the device knows never makes an OK (an OK status
    # always means a report with values).
    ProblemKind.NO_KNOWN_VALUES: E.UNRECOGNIZED,
    ProblemKind.UNKNOWN_LAYOUT: E.UNRECOGNIZED,
}


def next_status(current: MeterStatus, event: LinkEvent) -> MeterStatus:
    explicit = _EXPLICIT.get((current, event))
    if explicit is not None:
        return explicit
    if event is LinkEvent.SILENCE:
        return current
    return _ANYWHERE[event]


def describe() -> str:
    """The machine as a Markdown table: every status, every event, the next status."""
    events = list(LinkEvent)
    head = "| status \\ event | " + " | ".join(e.value for e in events) + " |"
    rule = "|---" * (len(events) + 1) + "|"
    rows = []
    for status in MeterStatus:
        cells = []
        for event in events:
            nxt = next_status(status, event)
            cells.append("·" if nxt is status else nxt.value)
        rows.append(f"| {status.value} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows]) + "\n"


Listener = Callable[[MeterStatus], None]


class Holder(Protocol):
    """Where the current status is shown (the device's MeterLink)."""

    status: MeterStatus


class StatusMachine:
    """Applies events through the table to the status its holder shows; tells listeners.
    Nothing else writes `holder.status`."""

    def __init__(self, log: logging.Logger | logging.LoggerAdapter[logging.Logger],
                 holder: Holder) -> None:
        self._holder = holder
        self._log = log
        self._listeners: list[Listener] = []

    @property
    def status(self) -> MeterStatus:
        return self._holder.status

    def rebind(self, holder: Holder) -> None:
        """A reboot made a new holder; the listeners stay."""
        self._holder = holder

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def handle(self, event: LinkEvent) -> MeterStatus:
        old = self._holder.status
        new = next_status(old, event)
        if new is not old:
            self._holder.status = new
            self._log.info("meter status %s -> %s (%s)", old.value, new.value, event.value)
            for listener in list(self._listeners):
                try:
                    listener(new)
                except Exception:  # noqa: BLE001 - a listener must not stop the machine
                    self._log.exception("meter status listener failed")
        return new
