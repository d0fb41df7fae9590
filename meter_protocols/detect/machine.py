"""The link detector: a sans-I/O state machine that finds a meter's line settings and protocol.

The link supervisor (emulator/meter) drives it and does all I/O:

    detector = LinkDetector(DetectConfig.from_settings(meter_settings))
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

Phases and transitions (the only place they are decided; `TRANSITIONS` is this table):

| phase   | trigger    | next    | what happens                                           |
|---------|------------|---------|--------------------------------------------------------|
| LISTEN  | FRAME      | LOCKED  | status OK                                              |
| LISTEN  | CIPHERED   | LOCKED  | status KEY REQUIRED (no key) / ENCRYPTION KEY (wrong)  |
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
NOT RECOGNIZED (bytes seen) or NOT CONNECTED. Timings: meter_protocols.detect.plan.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from meter_protocols.detect.evidence import Evidence
from meter_protocols.detect.outcome import (
    Action,
    Apply,
    Counters,
    Diagnostics,
    Phase,
    Redetect,
    StatusChange,
    TryRecord,
    bump,
)
from meter_protocols.detect.plan import (
    BURST_GAP,
    FIRST_SILENT_PUSH,
    GARBAGE_BYTES,
    GARBAGE_SHARE,
    GIVE_UP,
    MIN_BUSY,
    PROBE_WINDOW,
    SILENT_PUSH,
    SLOWEST_INTERVAL,
    Candidate,
    DetectConfig,
    busy_limit,
    candidates,
    interface_for,
)
from meter_protocols.detect.sniff import Family
from meter_protocols.detect.window import Lock, Window
from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings
from meter_protocols.readings import Event, FrameDecoded, Problem, ProblemKind
from meter_protocols.status import MeterStatus
from meter_protocols.uart import ErrorFlag, LineProbe


class Trigger(StrEnum):
    FRAME = "frame"
    CIPHERED = "ciphered"
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


# --- the detector ------------------------------------------------------------------------


class LinkDetector:
    """Finds and watches the meter's line. Time is always passed in; nothing is read."""

    def __init__(self, config: DetectConfig | None = None) -> None:
        self._config = config or DetectConfig()
        self._candidates = candidates(self._config)
        self._phase = Phase.IDLE
        self._status = MeterStatus.RECOGNITION
        self._message = ""
        self._window: Window | None = None
        self._lock: Lock | None = None
        self._candidate: Candidate | None = None
        self._evidence: list[Evidence] = []
        self._probe: Evidence | None = None  # the latest electrical measurement
        self._failed: set[LineSettings] = set()
        self._passes = 0
        self._search_start = 0.0
        self._activity_since: float | None = None
        self._last_activity: float | None = None
        self._push_seen = False
        self._previous_family: Family | None = None
        self._pull_turn = 0
        self._started = False
        self._totals = Counters()
        self._history: deque[TryRecord] = deque(maxlen=HISTORY)

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
            ends = [(w.renewed or w.started) + self._window_limit(w)]
            if w.last_byte is not None and w.burst_open:
                ends.append(w.last_byte + BURST_GAP)
                assert w.burst_start is not None
                ends.append(w.burst_start + self._busy_limit(w))
            return min(ends)
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
        else:
            text = f"{cand.family.label} frames arrive at {cand.line} but the key is wrong"
        del detail
        return self._set_status(status, text)

    # -- listening -------------------------------------------------------------------------

    def _tick_listen(self, now: float) -> list[Action]:
        w = self._window
        cand = self._candidate
        if w is None or cand is None:
            return []
        actions: list[Action] = []
        if w.burst_open and w.last_byte is not None and now - w.last_byte >= BURST_GAP:
            w.close_burst()
            actions += self._judge(now, Trigger.BURST_END)
        elif (w.burst_open and w.burst_start is not None
              and now - w.burst_start >= self._busy_limit(w)):
            w.close_burst()
            actions += self._judge(now, Trigger.BUSY)
        elif not w.burst_open and now - (w.renewed or w.started) >= self._window_limit(w):
            actions += self._window_end(now)
        return actions + self._search_status(now)

    @staticmethod
    def _busy_limit(w: Window) -> float:
        """Bytes without pause are judged once the longest frame could have passed; at once
        (MIN_BUSY) when a fifth of them carry UART errors: no frame will come of those."""
        if w.count >= GARBAGE_BYTES and (w.framing + w.parity) >= GARBAGE_SHARE * w.count:
            return MIN_BUSY
        return busy_limit(w.candidate.family, w.candidate.line)

    def _window_limit(self, w: Window) -> float:
        cand = w.candidate
        if cand.pull:
            return cand.listen
        if self._activity_since is None and self._pull_candidates():
            return max(SILENT_PUSH, FIRST_SILENT_PUSH - (w.started - self._search_start))
        interval = w.interval()
        if interval is not None:
            return min(cand.listen, 1.5 * interval + 1.0)
        return cand.listen

    def _search_status(self, now: float) -> list[Action]:
        silence = now - (self._last_activity if self._last_activity is not None
                         else self._search_start)
        if silence >= self._silence_limit():
            self._activity_since = None
            return self._set_status(MeterStatus.NOT_CONNECTED,
                                    f"no signal from the meter for {silence:.0f} s: check the "
                                    "cable and the interface type")
        if self._activity_since is not None and (
                self._passes >= 1 or now - self._activity_since >= GIVE_UP):
            tried = len({c.line for c in self._candidates})
            return self._set_status(MeterStatus.NOT_RECOGNIZED,
                                    f"bytes arrive but no supported protocol fits after trying "
                                    f"{tried} line settings; still trying")
        if self._status in (MeterStatus.NOT_CONNECTED, MeterStatus.NOT_RECOGNIZED) and \
                self._activity_since is not None and self._passes == 0:
            return self._set_status(MeterStatus.RECOGNITION, self._message)
        return []

    def _silence_limit(self) -> float:
        push = [c.listen for c in self._candidates if not c.pull]
        if push:
            return max(push)
        return 3 * PROBE_WINDOW

    def _pull_candidates(self) -> list[Candidate]:
        return [c for c in self._candidates if c.pull]

    def _judge(self, now: float, trigger: Trigger) -> list[Action]:
        """A burst ended (or bytes kept coming) without a frame: what next?"""
        w = self._window
        cand = self._candidate
        assert w is not None
        assert cand is not None
        self._apply_transition(trigger)
        evidence = w.evidence()
        family = evidence.family
        allowed = self._config.families()
        if (evidence.clean and family is not None and family is not cand.family
                and family in allowed):
            switched = Candidate(cand.line, family, interface_for(self._config, family,
                                                                  cand.line),
                                 cand.listen if family.pull == cand.pull else
                                 self._listen_for(family), evidence.text)
            replay = bytes(w.data)
            self._close_window(now, f"{family.label} recognised: switching decoder")
            return self._apply(switched, now, evidence.text, replay=replay)
        if evidence.clean and (family is cand.family or family is None) and \
                w.strikes < CLEAN_STRIKES and trigger is not Trigger.BUSY:
            w.strikes += 1
            w.renewed = now
            return self._note(f"clean bytes at {cand.line}, no complete frame yet: waiting "
                              "for the next one")
        self._add_evidence(evidence)
        self._failed.add(cand.line)
        self._close_window(now, evidence.text)
        nxt = self._next_candidate()
        return self._apply(nxt, now, evidence.text)

    def _listen_for(self, family: Family) -> float:
        for c in self._candidates:
            if c.family is family:
                return c.listen
        return SLOWEST_INTERVAL[family] + 1.0

    def _window_end(self, now: float) -> list[Action]:
        """The window ran out without a burst to judge."""
        w = self._window
        cand = self._candidate
        assert w is not None
        assert cand is not None
        self._apply_transition(Trigger.WINDOW_END)
        if w.count:
            w.close_burst()
            return self._judge(now, Trigger.WINDOW_END)
        self._close_window(now, "silent")
        pulls = self._pull_candidates()
        pushes = [c for c in self._ranked() if not c.pull]
        if not self._push_seen and pulls and (not cand.pull or pushes):
            if not cand.pull:
                nxt = pulls[self._pull_turn % len(pulls)]
                self._pull_turn += 1
                return self._apply(nxt, now, "silent line: asking a pull meter")
            return self._apply(pushes[0], now, "no answer to the request: listening")
        pool = [c for c in (pushes if self._push_seen else self._ranked())
                if c.line not in self._failed] or pushes or self._ranked()
        if self._activity_since is not None and len(pool) > 1 and pool[0] == cand:
            # The meter talks but was quiet for a whole window here: give the next a turn.
            pool = pool[1:]
        return self._apply(pool[0], now, "silent window")

    # -- choosing --------------------------------------------------------------------------

    def _ranked(self) -> list[Candidate]:
        scored = []
        for index, c in enumerate(self._candidates):
            score = -float(index)
            for age, ev in enumerate(reversed(self._evidence)):
                score += ev.rate(c.line, c.family) * EVIDENCE_DECAY ** age
            if self._probe is not None:
                score += self._probe.rate(c.line, c.family)
            if self._previous_family is c.family:
                score += SAME_FAMILY_BONUS
            if c.pull and self._push_seen:
                score -= PUSH_SEEN_PENALTY
            scored.append((score, -index, c))
        scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
        return [c for _, _, c in scored]

    def _next_candidate(self) -> Candidate:
        ranked = self._ranked()
        pool = [c for c in ranked if c.line not in self._failed]
        if not pool:
            self._passes += 1
            current = self._candidate.line if self._candidate else None
            self._failed = {current} if current is not None else set()
            pool = [c for c in ranked if c.line not in self._failed] or ranked
        return pool[0]

    def _add_evidence(self, evidence: Evidence) -> None:
        self._evidence.append(evidence)
        del self._evidence[:-EVIDENCE_KEPT]

    # -- locked ----------------------------------------------------------------------------

    def _tick_locked(self, now: float) -> list[Action]:
        lock = self._lock
        w = self._window
        assert lock is not None
        assert w is not None
        if w.burst_open and w.last_byte is not None and now - w.last_byte >= BURST_GAP:
            w.close_burst()
        patience = lock.patience()
        pull = lock.candidate.pull
        # A pull meter is judged by its answers: our own requests may echo on the line.
        bad_after = 2 * patience if pull else patience
        spread = (w.last_byte - w.first_byte) if w.first_byte is not None and \
            w.last_byte is not None else 0.0
        if (w.count and now - lock.last_good >= bad_after
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
        if self._phase is Phase.LOCKED and now - heard >= patience:
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

    def _apply(self, candidate: Candidate, now: float, reason: str, *,
               replay: bytes = b"") -> list[Action]:
        previous = self._candidate
        line_changed = previous is None or previous.line != candidate.line
        self._candidate = candidate
        self._window = Window(candidate, now)
        self._message = f"{reason}: trying {candidate.line} ({candidate.family.label})"
        if previous == candidate and not replay and self._phase is Phase.LISTEN:
            return []  # the same candidate listens on; its decoder keeps what it has
        return [Apply(candidate, line_changed, replay)]

    def _close_window(self, now: float, verdict: str) -> None:
        if self._window is not None and self._phase is not Phase.IDLE:
            self._history.append(self._window.record(now, verdict))
        self._window = None

    def _note(self, text: str) -> list[Action]:
        self._message = text
        return []

    def _set_status(self, status: MeterStatus, message: str) -> list[Action]:
        self._message = message
        if status is self._status:
            return []
        self._status = status
        return [StatusChange(status, message)]

    def _apply_transition(self, trigger: Trigger) -> None:
        try:
            self._phase = TRANSITIONS[(self._phase, trigger)]
        except KeyError:
            raise ProtocolError(f"no transition from {self._phase} on {trigger}") from None
