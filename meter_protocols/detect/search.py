"""The detector's search: listening to one candidate at a time, judging what arrived,
choosing the next candidate by the evidence, and the plumbing every phase shares. The
public interface and the locked phase are in machine.py; phases, triggers and constants
in transitions.py."""

from __future__ import annotations

from collections import deque

from meter_protocols.detect.evidence import Evidence
from meter_protocols.detect.outcome import (
    Action,
    Apply,
    Counters,
    Phase,
    StatusChange,
    TryRecord,
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
from meter_protocols.detect.transitions import (
    CLEAN_STRIKES,
    EVIDENCE_DECAY,
    EVIDENCE_KEPT,
    HISTORY,
    PUSH_SEEN_PENALTY,
    SAME_FAMILY_BONUS,
    TRANSITIONS,
    Trigger,
)
from meter_protocols.detect.window import Lock, Window
from meter_protocols.errors import ProtocolError
from meter_protocols.line import LineSettings
from meter_protocols.status import MeterStatus


class Search:
    """The state of a detector and its search; LinkDetector (machine.py) adds the calls."""

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

    # -- listening -------------------------------------------------------------------------

    def _tick_listen(self, now: float) -> list[Action]:
        w = self._window
        cand = self._candidate
        if w is None or cand is None:
            return []
        actions: list[Action] = []
        # Each test is written as `now >= the deadline` exactly as `deadline` computes it:
        # `now - t >= d` can miss by a rounding error when woken at t + d, and spin.
        if w.burst_open and w.last_byte is not None and now >= w.last_byte + BURST_GAP:
            w.close_burst()
            actions += self._judge(now, Trigger.BURST_END)
        elif (w.burst_open and w.burst_start is not None
              and now >= w.burst_start + self._busy_limit(w)):
            w.close_burst()
            actions += self._judge(now, Trigger.BUSY)
        elif not w.burst_open and now >= (w.renewed or w.started) + self._window_limit(w):
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
