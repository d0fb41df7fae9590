"""The gateway's side of KMP: a sans-I/O poller that reads a meter cycle after cycle.

The caller owns the wire and the clock; the poller owns what to send and when:

    request = poller.poll(now)          # bytes to write now, or b""
    events = poller.feed(data, now)     # bytes read from the meter -> events
    events += poller.take_events()      # problems found by poll() (timeouts)
    poller.next_deadline()              # call poll() again at this time at the latest

A cycle reads the identity (GetType, GetSerialNo) when it is not known yet, then the
registers in batches of up to eight (GetRegister). When the last answer of a cycle is in,
feed() returns a `FrameDecoded` whose `MeterReading` (protocol KMP) holds every value of
the cycle; cycles start every `interval` seconds on a fixed grid (a cycle that overruns
starts the next one at once).

States and transitions (the only place they are defined):

    IDLE     waiting for the next cycle; deadline = its start.
             poll(now >= deadline): plan the cycle, -> READY (due now)
    READY    the current step's request is due at the deadline.
             poll(now >= deadline): send it (attempt n), -> WAITING
             feed(matching answer) while a retry is pending: accepted as in WAITING
    WAITING  a request is out; deadline = sent + response_timeout.
             feed(valid answer), more steps:     -> READY (due now + gap)
             feed(valid answer), last step:      emit FrameDecoded, -> IDLE
             feed(bad CRC / truncated / malformed / oversize answer):
                                                 emit that problem, then FAIL
             poll(now >= deadline):              partial frame -> TRUNCATED, then FAIL;
                                                 nothing at all -> FAIL (silent)
    FAIL     attempts left (1 + retries per step): -> READY (due now, or now + gap after
             a bad answer), the same request again.
             none left: the cycle is abandoned, -> IDLE (next cycle on the grid);
             if the meter was silent: emit TIMEOUT and forget the identity, so the
             next cycle starts with GetType again.

Registers the meter leaves out of an answer are reported once as a NAK problem and not
asked for again until the identity is read anew. Our own requests echoed back on the line
(half-duplex optical heads echo) are ignored. Answers that match no outstanding request
are reported as MALFORMED and ignored; they never complete or fail a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from meter_protocols.errors import ProtocolError
from meter_protocols.guard import INPUT_FAULTS, fault
from meter_protocols.kmp.codec import METER_ADDRESS, Acknowledge, Direction, Message
from meter_protocols.kmp.commands import (
    MAX_REGISTERS,
    Command,
    MeterType,
    get_register_request,
    get_serial_request,
    get_type_request,
    parse_registers,
    parse_serial,
    parse_type,
)
from meter_protocols.kmp.framer import KmpFramer
from meter_protocols.kmp.reading import cycle_reading
from meter_protocols.kmp.registers import (
    OMNIPOWER_POLL,
    batches,
)
from meter_protocols.kmp.values import RegisterValue
from meter_protocols.readings import (
    Event,
    FrameDecoded,
    Problem,
    ProblemKind,
    problem,
)

#: Problems that mean the answer to the outstanding request was destroyed.
_BROKEN_ANSWER = frozenset((ProblemKind.BAD_CRC, ProblemKind.TRUNCATED, ProblemKind.MALFORMED,
                            ProblemKind.OVERSIZE))


class PollerState(StrEnum):
    IDLE = "idle"
    READY = "ready"
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class _Step:
    command: Command
    registers: tuple[int, ...] = ()


class KmpPoller:
    """Reads a KMP meter: identity once, then register batches every `interval` seconds."""

    def __init__(
        self,
        registers: Sequence[int] = OMNIPOWER_POLL,
        *,
        address: int = METER_ADDRESS,
        interval: float = 4.0,
        response_timeout: float = 1.0,
        retries: int = 2,
        gap: float = 0.05,
        zone: ZoneInfo | None = None,
        start: float = 0.0,
        batch_size: int = MAX_REGISTERS,
    ) -> None:
        if not registers or len(set(registers)) != len(registers):
            raise ProtocolError("the poller needs a non-empty list of distinct registers")
        if interval <= 0 or response_timeout <= 0 or gap < 0 or retries < 0:
            raise ProtocolError("interval and timeout must be positive, gap and retries >= 0")
        if not 1 <= batch_size <= MAX_REGISTERS:
            raise ProtocolError(f"batch size must be 1..{MAX_REGISTERS}, got {batch_size}")
        self.registers = tuple(registers)
        self.address = address
        self.interval = interval
        self.response_timeout = response_timeout
        self.retries = retries
        self.gap = gap
        self.zone = zone or ZoneInfo("Europe/Zurich")
        self.batch_size = batch_size
        self._framer = KmpFramer()
        self._state = PollerState.IDLE
        self._due = start
        self._plan: tuple[_Step, ...] = ()
        self._index = 0
        self._attempts = 0
        self._cycle_start = start
        self._collected: dict[int, RegisterValue] = {}
        self._wire_bytes = 0
        self._pending: list[Event] = []
        self._meter_type: MeterType | None = None
        self._serial: int | None = None
        self._refused: set[int] = set()
        self.cycles = 0  # completed cycles
        self.abandoned = 0  # cycles given up after the retries ran out

    # -- what the caller sees -------------------------------------------------------------

    @property
    def state(self) -> PollerState:
        return self._state

    @property
    def meter_type(self) -> MeterType | None:
        return self._meter_type

    @property
    def serial(self) -> int | None:
        return self._serial

    @property
    def refused(self) -> frozenset[int]:
        return frozenset(self._refused)

    @property
    def buffered(self) -> int:
        return self._framer.buffered

    def next_deadline(self) -> float:
        """When poll() must be called next: a request falls due or an answer times out."""
        return self._due

    def reset(self, now: float) -> None:
        """Forget the meter and anything half-received; a new cycle starts at `now`."""
        self._framer.reset()
        self._forget_identity()
        self._state = PollerState.IDLE
        self._due = now
        self._cycle_start = now
        self._plan, self._index, self._attempts = (), 0, 0

    def take_events(self) -> list[Event]:
        """Problems poll() found (timeouts), in order; each is returned once."""
        events, self._pending = self._pending, []
        return events

    def poll(self, now: float) -> bytes:
        """The request to send now, or b"". Also detects timeouts (see take_events)."""
        if self._state is PollerState.WAITING and now >= self._due:
            partial = [item for item in self._framer.flush() if isinstance(item, Problem)]
            self._pending += partial
            silent = not any(p.kind is ProblemKind.TRUNCATED for p in partial)
            self._fail(now, silent=silent)
        if self._state is PollerState.IDLE and now >= self._due:
            self._start_cycle(now)
        if self._state is PollerState.READY and now >= self._due:
            return self._send(now)
        return b""

    def feed(self, data: bytes, now: float) -> list[Event]:
        """Bytes from the meter; returns problems and, when a cycle completes, the reading."""
        try:
            self._feed(data, now)
        except INPUT_FAULTS as exc:  # the net under "never raises" (meter_protocols.guard)
            self._framer.reset()
            self._pending.append(fault(exc, "KMP answer", data[:64]))
            if self._state is PollerState.WAITING:
                self._fail(now, silent=False)
        return self.take_events()

    def _feed(self, data: bytes, now: float) -> None:
        for item in self._framer.feed(data):
            if isinstance(item, Problem):
                self._pending.append(item)
                if item.kind in _BROKEN_ANSWER and self._state is PollerState.WAITING:
                    self._fail(now, silent=False)
            elif isinstance(item, Acknowledge):
                self._pending.append(problem(ProblemKind.MALFORMED,
                                             "KMP acknowledge where data was expected",
                                             b"\x06"))
            elif item.direction is Direction.RESPONSE:
                self._answer(item, now)
            # Requests are our own, echoed by the line: nothing to do.

    # -- the cycle ------------------------------------------------------------------------

    def _start_cycle(self, now: float) -> None:
        self._cycle_start = self._due if now - self._due < self.interval else now
        steps: list[_Step] = []
        if self._meter_type is None or self._serial is None:
            steps += [_Step(Command.GET_TYPE), _Step(Command.GET_SERIAL_NO)]
        wanted = tuple(r for r in self.registers if r not in self._refused)
        steps += [_Step(Command.GET_REGISTER, batch) for batch in batches(wanted, self.batch_size)]
        self._plan, self._index, self._attempts = tuple(steps), 0, 0
        self._collected.clear()
        self._wire_bytes = 0
        self._state = PollerState.READY
        self._due = now
        if not steps:  # every register refused and identity known: report what is known
            self._finish(now)

    def _request(self, step: _Step) -> bytes:
        if step.command is Command.GET_TYPE:
            return get_type_request(self.address)
        if step.command is Command.GET_SERIAL_NO:
            return get_serial_request(self.address)
        return get_register_request(step.registers, self.address)

    def _send(self, now: float) -> bytes:
        if self._framer.in_frame:  # a stale partial answer: report it before it is cut off
            self._pending += [i for i in self._framer.flush() if isinstance(i, Problem)]
        self._attempts += 1
        self._state = PollerState.WAITING
        self._due = now + self.response_timeout
        return self._request(self._plan[self._index])

    def _fail(self, now: float, *, silent: bool) -> None:
        step = self._plan[self._index]
        if self._attempts <= self.retries:
            self._state = PollerState.READY
            self._due = now if silent else now + self.gap
            return
        self.abandoned += 1
        if silent:
            what = step.command.name + (f" {list(step.registers)}" if step.registers else "")
            self._pending.append(problem(
                ProblemKind.TIMEOUT,
                f"no answer to {what} after {self._attempts} attempts of "
                f"{self.response_timeout:g} s"))
            self._forget_identity()
        self._state = PollerState.IDLE
        self._due = max(self._cycle_start + self.interval, now)

    def _answer(self, message: Message, now: float) -> None:
        current = self._plan[self._index] if self._index < len(self._plan) else None
        expecting = current is not None and self._attempts > 0 and self._state in (
            PollerState.WAITING, PollerState.READY)
        if current is None or not expecting:
            self._pending.append(problem(ProblemKind.MALFORMED,
                                         f"unsolicited KMP answer (CID {message.cid:#04x})"))
            return
        if message.address != self.address or message.cid != current.command:
            self._pending.append(problem(
                ProblemKind.MALFORMED,
                f"KMP answer from {message.address:#04x} CID {message.cid:#04x} does not match "
                f"the request ({self.address:#04x} CID {current.command:#04x})"))
            return
        if current.command is Command.GET_TYPE:
            meter_type = parse_type(message.data)
            if meter_type is None:
                self._bad_answer(message, now, "GetType answer is not 4 bytes")
                return
            self._meter_type = meter_type
        elif current.command is Command.GET_SERIAL_NO:
            serial = parse_serial(message.data)
            if serial is None:
                self._bad_answer(message, now, "GetSerialNo answer is not 4 bytes")
                return
            self._serial = serial
        else:
            values = parse_registers(message.data)
            if values is None:
                self._bad_answer(message, now, "GetRegister answer cut inside a value")
                return
            got = {v.register for v in values}
            if not got <= set(current.registers):
                self._pending.append(problem(
                    ProblemKind.MALFORMED,
                    f"KMP answer carries registers {sorted(got - set(current.registers))} "
                    "that were not asked for", message.data))
                return
            refused = [r for r in current.registers if r not in got]
            if refused:
                self._refused.update(refused)
                self._pending.append(problem(
                    ProblemKind.NAK, f"meter does not know registers {refused}; not asked again"))
            self._collected.update((v.register, v) for v in values)
        self._wire_bytes += message.size
        self._index += 1
        self._attempts = 0
        if self._index < len(self._plan):
            self._state = PollerState.READY
            self._due = now + self.gap
        else:
            self._finish(now)

    def _bad_answer(self, message: Message, now: float, detail: str) -> None:
        self._pending.append(problem(ProblemKind.MALFORMED, detail, message.data))
        if self._state is PollerState.WAITING:
            self._fail(now, silent=False)

    def _finish(self, now: float) -> None:
        self.cycles += 1
        reading, problems = cycle_reading(self._collected, self._serial, self._meter_type,
                                          self.zone)
        self._pending += problems
        if reading.has_values:
            self._pending.append(FrameDecoded(reading, self._wire_bytes))
        else:  # OK needs values: a meter that answers with none is a problem
            self._pending.append(problem(ProblemKind.NO_KNOWN_VALUES, "no known value in "
                                         f"{len(self._collected)} registers of the cycle"))
        self._state = PollerState.IDLE
        self._due = max(self._cycle_start + self.interval, now)

    def _forget_identity(self) -> None:
        self._meter_type = None
        self._serial = None
        self._refused.clear()
