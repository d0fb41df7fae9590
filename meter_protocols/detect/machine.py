"""The link detector: a sans-I/O state machine that finds a meter's line settings and protocol.

The link supervisor (emulator/meter) drives it and does all I/O:

    detector = LinkDetector(config)   # a DetectConfig, built at the edge from the settings
    actions = detector.start(now)
    loop:
        actions += detector.received(data, now, flags)   # flags: uart.ErrorFlag per byte,
                                                         # None when the port cannot tell
        actions += detector.decoded(decoder.feed(data), now)
        actions += detector.tick(now)                    # after each read, and by
                                                         # detector.deadline at the latest
        for action in actions:
            Apply:        reconfigure the port to action.candidate.line (if line_changed),
                          build a fresh decoder of action.candidate.family (a poller that
                          sends requests when candidate.pull), feed it action.replay
            StatusChange: show action.status / action.message on the device
            Redetect:     log it (an Apply follows)

Phases, triggers and the transition table: transitions.py. The search (listening, judging,
choosing): search.py. This module: the supervisor's calls, frames and problems, the locked
phase.

Status while LISTEN: RECOGNITION; NOT CONNECTED once no byte has arrived for the longest
listen time of the allowed families; NOT RECOGNIZED after a full pass with bytes and no fit,
or after GIVE_UP seconds of bytes without a fit (the search goes on either way). IDLE shows
NOT RECOGNIZED (bytes seen) or NOT CONNECTED. Timings: meter_protocols.detect.plan.
"""

from __future__ import annotations

from collections.abc import Iterable

from meter_protocols.detect.evidence import Evidence
from meter_protocols.detect.outcome import (
    Action,
    Counters,
    Diagnostics,
    Phase,
    Redetect,
    StatusChange,
    bump,
)
from meter_protocols.detect.plan import (
    BURST_GAP,
    Candidate,
    DetectConfig,
    candidates,
)
from meter_protocols.detect.search import Search
from meter_protocols.detect.transitions import (
    HISTORY,
    Trigger,
)
from meter_protocols.detect.window import Lock, Window
from meter_protocols.errors import ProtocolError
from meter_protocols.readings import Event, FrameDecoded, Problem, ProblemKind
from meter_protocols.status import MeterStatus
from meter_protocols.uart import ErrorFlag, LineProbe


class LinkDetector(Search):
    """Finds and watches the meter's line. Time is always passed in; nothing is read."""

    # -- the supervisor's calls ------------------------------------------------------------

    @property
    def config(self) -> DetectConfig:
        return self._config

    @property
    def status(self) -> MeterStatus:
        return self._status

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def message(self) -> str:
        return self._message

    @property
    def candidate(self) -> Candidate | None:
        """What the port should be reading with now (None: nothing supported to read)."""
        return self._candidate

    @property
    def locked(self) -> bool:
        return self._phase in (Phase.LOCKED, Phase.QUIET)

    @property
    def deadline(self) -> float | None:
        """Call tick() by this time at the latest, and after every read that returned bytes
        (so bursts are judged promptly and a locked line that went bad is noticed)."""
        w = self._window
        if self._phase is Phase.LISTEN and w is not None:
            # The same conditions tick() acts on: while a burst is open only its end (or
            # its running too long) is judged, the window's end only once it closed. A
            # deadline tick() would not act on makes the caller spin.
            if w.last_byte is not None and w.burst_open:
                assert w.burst_start is not None
                return min(w.last_byte + BURST_GAP, w.burst_start + self._busy_limit(w))
            return (w.renewed or w.started) + self._window_limit(w)
        if self._lock is not None and self._phase is Phase.LOCKED:
            lock = self._lock
            heard = lock.last_good if lock.candidate.pull else lock.last_byte
            return heard + lock.patience()
        return None  # QUIET or IDLE: only new bytes can change anything

    def start(self, now: float) -> list[Action]:
        if self._started:
            raise ProtocolError("LinkDetector.start() called twice")
        self._started = True
        actions = self._begin_search(now, "factory order" if self._config.auto_baudrate
                                     else "fixed settings")
        if not any(isinstance(a, StatusChange) for a in actions):
            actions.append(StatusChange(self._status, self._message))
        return actions

    def received(self, data: bytes, now: float, flags: bytes | None = None) -> list[Action]:
        """Bytes read from the port, with their uart.ErrorFlag bits when the port can tell."""
        if not data:
            return []
        if flags is not None and len(flags) != len(data):
            raise ProtocolError("one flag byte per data byte")
        t = self._totals
        if flags is not None and any(flags):
            fe = sum(1 for f in flags if f & ErrorFlag.FRAMING)
            pe = sum(1 for f in flags if f & ErrorFlag.PARITY)
            br = sum(1 for f in flags if f & ErrorFlag.BREAK)
        else:
            fe = pe = br = 0
        self._totals = Counters(t.bytes + len(data), t.framing_errors + fe,
                                t.parity_errors + pe, t.breaks + br, t.frames, t.crc_failures,
                                t.decryption_failures, t.key_required, t.other_problems)
        self._last_activity = now
        actions: list[Action] = []
        if self._activity_since is None and self._phase is Phase.LISTEN:
            self._activity_since = now
            if self._status is MeterStatus.NOT_CONNECTED:
                actions += self._set_status(MeterStatus.RECOGNITION,
                                            "bytes arrive from the meter: recognising")
        if self._window is not None:
            if self._candidate is not None and not self._candidate.pull:
                self._push_seen = True
            self._window.add(data, flags, now)
        if self._lock is not None:
            self._lock.last_byte = now
        return actions

    def decoded(self, events: Iterable[Event], now: float) -> list[Action]:
        """Events of the decoder built for the current candidate."""
        actions: list[Action] = []
        for event in events:
            actions += self._event(event, now)
        return actions

    def line_probe(self, probe: LineProbe, now: float) -> list[Action]:
        """Optional: what the hardware measured on the RX pin (idle level, shortest pulse).
        A real port cannot always tell; the virtual wire can."""
        del now
        if self._phase is not Phase.LISTEN or (probe.shortest_pulse is None
                                                and probe.idle_high is None):
            return []
        baud = probe.baudrate
        inverted = None if probe.idle_high is None else not probe.idle_high
        parts = []
        if baud is not None:
            parts.append(f"its shortest pulse says {baud} baud")
        if inverted is not None:
            parts.append("it rests low (inverted)" if inverted else "it rests high")
        self._probe = Evidence("the line: " + ", ".join(parts), baud=baud,
                               baud_weight=70.0 if baud else 0.0, inverted=inverted,
                               inverted_weight=50.0 if inverted is not None else 0.0)
        return []

    def tick(self, now: float) -> list[Action]:
        if self._phase is Phase.LISTEN:
            return self._tick_listen(now)
        if self._phase in (Phase.LOCKED, Phase.QUIET):
            return self._tick_locked(now)
        return self._tick_idle(now)

    def reconfigure(self, config: DetectConfig, now: float) -> list[Action]:
        """The meter settings changed. A lock survives when its candidate is still allowed."""
        old = self._config
        self._config = config
        self._candidates = candidates(config)
        if config == old:
            return []
        lock = self._lock
        if lock is not None and any(c.line == lock.candidate.line
                                    and c.family is lock.candidate.family
                                    for c in self._candidates):
            return []
        if lock is not None and config.auto_baudrate and lock.candidate.family in \
                config.families() and lock.candidate.line.inverted == config.rx_invert:
            return []
        self._close_window(now, "settings changed")
        self._lock = None
        self._apply_transition(Trigger.CONFIG)
        return self._begin_search(now, "settings changed")

    def diagnostics(self, now: float) -> Diagnostics:
        interval = None
        if self._lock is not None:
            interval = self._lock.interval()
        elif self._window is not None:
            interval = self._window.interval()
        tried = tuple(self._history)
        if self._window is not None and self._phase is Phase.LISTEN:
            tried += (self._window.record(now, "listening"),)
        searching = 0.0 if self.locked else now - self._search_start
        return Diagnostics(self._status, self._phase, self._message, self._candidate,
                           self._lock.since if self._lock else None, interval, self._passes,
                           searching, self._totals, tried[-HISTORY:])

    # -- events ----------------------------------------------------------------------------

    def _event(self, event: Event, now: float) -> list[Action]:
        t = self._totals
        w = self._window
        if isinstance(event, FrameDecoded):
            self._totals = bump(t, frames=1)
            if w is not None:
                w.frames += 1
            return self._good(now, MeterStatus.OK, None)
        assert isinstance(event, Problem)
        kind = event.kind
        if kind is ProblemKind.BAD_CRC:
            self._totals = bump(t, crc_failures=1)
            if w is not None:
                w.crc += 1
            return []
        if kind is ProblemKind.KEY_REQUIRED:
            self._totals = bump(t, key_required=1)
            return self._good(now, MeterStatus.KEY_REQUIRED, event.detail)
        if kind is ProblemKind.DECRYPTION_FAILED:
            self._totals = bump(t, decryption_failures=1)
            if w is not None:
                w.decrypt += 1
            return self._good(now, MeterStatus.ENCRYPTION_KEY, event.detail)
        if kind in (ProblemKind.UNKNOWN_LAYOUT, ProblemKind.NO_KNOWN_VALUES):
            # Whole frames of this family at this line, understood up to their content:
            # the line is right; the meter's layout is what the device cannot read.
            self._totals = bump(t, other_problems=1)
            return self._good(now, MeterStatus.NOT_RECOGNIZED, event.detail)
        self._totals = bump(t, other_problems=1)
        return []

    def _good(self, now: float, status: MeterStatus, detail: str | None) -> list[Action]:
        """A frame that proves the line and the protocol (decoded, or ciphered)."""
        cand = self._candidate
        if cand is None or self._phase is Phase.IDLE:
            return []
        trigger = Trigger.FRAME if status is MeterStatus.OK else Trigger.CIPHERED
        was = self._phase
        self._apply_transition(trigger)
        if was is Phase.LISTEN:
            self._close_window(now, "locked")
            self._lock = Lock(cand, now, now, now)
            self._evidence.clear()
            self._probe = None
            self._failed.clear()
            self._passes = 0
            self._activity_since = None
            self._previous_family = cand.family
        lock = self._lock
        assert lock is not None
        lock.last_good = now
        lock.last_byte = max(lock.last_byte, now)
        lock.frame_times.append(now)
        self._window = Window(cand, now)
        if status is MeterStatus.OK:
            text = f"{cand.family.label} frames decode at {cand.line}"
        elif status is MeterStatus.KEY_REQUIRED:
            text = f"{cand.family.label} frames arrive encrypted at {cand.line} but no key is set"
        elif status is MeterStatus.ENCRYPTION_KEY:
            text = f"{cand.family.label} frames arrive at {cand.line} but the key is wrong"
        else:
            text = f"{cand.family.label} frames arrive at {cand.line} but {detail}"
        return self._set_status(status, text)

    # -- locked ----------------------------------------------------------------------------

    def _tick_locked(self, now: float) -> list[Action]:
        lock = self._lock
        w = self._window
        assert lock is not None
        assert w is not None
        if w.burst_open and w.last_byte is not None and now >= w.last_byte + BURST_GAP:
            w.close_burst()
        patience = lock.patience()
        pull = lock.candidate.pull
        # A pull meter is judged by its answers: our own requests may echo on the line.
        bad_after = 2 * patience if pull else patience
        spread = (w.last_byte - w.first_byte) if w.first_byte is not None and \
            w.last_byte is not None else 0.0
        if (w.count and now >= lock.last_good + bad_after
                and (w.bursts + w.burst_open >= 2 or spread >= patience / 2)):
            w.close_burst()
            evidence = w.evidence()
            reason = (f"bytes arrive at {lock.candidate.line} but no frame decoded for "
                      f"{now - lock.last_good:.0f} s ({evidence.text}): searching again")
            self._apply_transition(Trigger.GARBAGE)
            self._history.append(w.record(now, "line went bad"))
            self._window = None
            self._lock = None
            self._add_evidence(evidence)
            self._failed = {lock.candidate.line}
            actions: list[Action] = [Redetect(reason)]
            actions += self._begin_search(now, reason, keep_evidence=True,
                                          activity=w.first_byte)
            return actions
        heard = lock.last_good if pull else lock.last_byte
        if self._phase is Phase.LOCKED and now >= heard + patience:
            self._apply_transition(Trigger.SILENCE)
            what = "answered" if pull else "sent anything"
            return self._set_status(MeterStatus.NO_DATA,
                                    f"the meter was read at {lock.candidate.line} and has not "
                                    f"{what} for {now - heard:.0f} s")
        return []

    def _tick_idle(self, now: float) -> list[Action]:
        if self._last_activity is not None:
            return self._set_status(MeterStatus.NOT_RECOGNIZED, self._message)
        del now
        return []

    # -- plumbing --------------------------------------------------------------------------

    def _begin_search(self, now: float, reason: str, *, keep_evidence: bool = False,
                      activity: float | None = None) -> list[Action]:
        self._search_start = now
        self._passes = 0
        self._pull_turn = 0
        self._activity_since = activity
        self._push_seen = activity is not None
        if not keep_evidence:
            self._evidence.clear()
            self._failed.clear()
        if not self._candidates:
            self._phase = Phase.IDLE
            self._candidate = None
            self._window = None
            return self._set_status(MeterStatus.NOT_RECOGNIZED if self._last_activity
                                    else MeterStatus.NOT_CONNECTED,
                                    f"no supported protocol for if_type {self._config.if_type}"
                                    f" and protocol {self._config.protocol}")
        self._phase = Phase.LISTEN
        pool = [c for c in self._ranked() if c.line not in self._failed] or self._ranked()
        actions = self._apply(pool[0], now, reason)
        return actions + self._set_status(MeterStatus.RECOGNITION, self._message)
