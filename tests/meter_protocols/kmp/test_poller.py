"""The gateway's poller against the emulated meter, through an in-memory wire.

Time is whatever the test passes in; nothing here sleeps or reads a clock.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_protocols.errors import ProtocolError
from meter_protocols.kmp import codec
from meter_protocols.kmp import commands as c
from meter_protocols.kmp.poller import KmpPoller, PollerState
from meter_protocols.kmp.registers import OMNIPOWER_POLL, REGISTERS
from meter_protocols.kmp.responder import KmpMeterModel, KmpResponder
from meter_protocols.kmp.values import unit
from meter_protocols.readings import FrameDecoded, MeterProtocol, Problem, ProblemKind
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_kmp import OMNIPOWER_MODEL

from .wire import T0, Exchange

PROFILE = get_profile("kamstrup-omnipower")
TIMEOUT = 1.0

#: Every OBIS value one OMNIPOWER cycle must deliver.
EXPECTED = {REGISTERS[r].obis for r in OMNIPOWER_POLL} - {None}


def _meter(seed: int = 3) -> VirtualMeter:
    return VirtualMeter(PROFILE, seed=seed, start=T0)


def _poller(**kwargs: Any) -> KmpPoller:
    options: dict[str, Any] = {"gap": 0.0, "start": T0, "response_timeout": TIMEOUT}
    options.update(kwargs)
    return KmpPoller(**options)


def _tolerance(obis: str) -> float:
    """Half the resolution the emulated meter sends, in base units."""
    spec = next(s for s in REGISTERS.values() if s.obis == obis)
    return float(unit(spec.unit).factor) * 10.0 ** spec.exponent / 2 + 1e-6


def _state(poller: KmpPoller) -> PollerState:
    return poller.state


class _Cut:
    """A link that damages the answers to the requests whose index is listed."""

    def __init__(self, how: str, indices: set[int] | None = None) -> None:
        self.how = how
        self.indices = indices

    def __call__(self, answer: bytes, index: int) -> bytes:
        if self.indices is not None and index not in self.indices:
            return answer
        if self.how == "silence":
            return b""
        if self.how == "truncate":
            return answer[: len(answer) // 2]
        datalink = codec.unstuff(answer[1:-1])
        assert datalink is not None
        return answer[:1] + codec.stuff(datalink[:-1] + bytes((datalink[-1] ^ 0xFF,))) + b"\r"


def test_one_cycle_reads_everything_and_agrees_with_the_meter() -> None:
    meter = _meter()
    wire = Exchange(_poller(), meter)
    wire.run_until(T0)  # the whole cycle happens at T0: no gap, no latency
    assert wire.problems() == []
    (decoded,) = wire.readings()
    reading = decoded.reading
    assert reading.protocol is MeterProtocol.KMP
    assert set(reading.values) == EXPECTED
    snapshot = meter.snapshot(T0)
    for obis, value in reading.values.items():
        assert value == pytest.approx(snapshot.values[obis], abs=_tolerance(obis)), obis
    # Energies, powers, voltages, currents are all there and meaningful.
    assert reading.values["1.8.0"] > 13_000_000
    assert reading.values["32.7.0"] > 200
    # As a real OMNIPOWER's whatwatt Go report shows it.
    identity = reading.identity
    assert (identity.meter_id, identity.vendor, identity.prefix, identity.model,
            identity.logical_name) == (
        "70312845", "Kamstrup", "KMP", "OMNIPOWER rev. AF1", "OMNIPOWER")
    assert reading.protocol_version == "0"
    assert reading.tariff == snapshot.tariff
    # Energies to the watt-hour (0.001 kWh), the tariff registers adding up to the total.
    assert reading.values["1.8.0"] == pytest.approx(snapshot.values["1.8.0"], abs=0.5)
    assert reading.values["1.8.1"] + reading.values["1.8.2"] == pytest.approx(
        reading.values["1.8.0"], abs=1.0)
    assert {"3.7.0", "4.7.0", "2.8.1", "2.8.2"} <= set(reading.values)
    assert reading.meter_time == snapshot.meter_time.replace(microsecond=0)
    assert reading.texts["0.2.0"] == "AF1"
    assert decoded.size == sum(len(meter.receive(r, T0)) for _, r in wire.requests)
    # GetType, GetSerialNo, then four GetRegister batches of at most 8.
    assert wire.cids() == [0x01, 0x02, 0x10, 0x10, 0x10, 0x10]


def test_cycles_repeat_on_the_interval_grid_with_realistic_timing() -> None:
    meter = _meter()
    poller = KmpPoller(start=T0, gap=0.05, response_timeout=TIMEOUT, interval=4.0)
    wire = Exchange(poller, meter, latency=0.12)
    wire.run_until(T0 + 39.9)
    readings = wire.readings()
    assert len(readings) == 10
    assert wire.problems() == []
    assert wire.requests[0] == (T0, c.get_type_request())
    first_batch = c.get_register_request(OMNIPOWER_POLL[:8])
    starts = [t for t, r in wire.requests if r == first_batch]
    assert starts[0] == pytest.approx(T0 + 2 * (0.12 + 0.05))  # after the identity
    assert starts[1:] == pytest.approx([T0 + 4 * k for k in range(1, 10)])
    assert wire.cids().count(c.Command.GET_TYPE) == 1  # identity read once
    assert poller.cycles == 10
    last = readings[-1].reading
    snapshot = meter.snapshot(wire.now)
    assert last.values["1.8.0"] == pytest.approx(snapshot.values["1.8.0"], abs=20)
    assert last.values["2.8.0"] == pytest.approx(snapshot.values["2.8.0"], abs=20)


@pytest.mark.parametrize("how", ["bad-crc", "truncate", "silence"])
def test_a_damaged_or_missing_answer_is_retried(how: str) -> None:
    wire = Exchange(_poller(), _meter(), link=_Cut(how, {2}))
    wire.run_until(T0 + 3.9)
    (first, retry) = [(t, r) for t, r in wire.requests if r[2] == c.Command.GET_REGISTER][:2]
    assert retry[1] == first[1]  # the same request again
    expected_problem = {"bad-crc": ProblemKind.BAD_CRC, "truncate": ProblemKind.TRUNCATED,
                        "silence": None}[how]
    if expected_problem is None:
        assert wire.problems() == []
        assert retry[0] == pytest.approx(first[0] + TIMEOUT)
    else:
        assert [p.kind for p in wire.problems()] == [expected_problem]
        # A bad frame is retried at once; a cut one when the answer time is up.
        delay = TIMEOUT if how == "truncate" else 0.0
        assert retry[0] == pytest.approx(first[0] + delay)
    (decoded,) = wire.readings()
    assert set(decoded.reading.values) == EXPECTED


def test_a_silent_meter_gives_timeouts_and_the_poller_keeps_cycling() -> None:
    meter = _meter()
    poller = _poller(retries=2)
    wire = Exchange(poller, meter)
    wire.run_until(T0 + 1)  # one good cycle
    assert len(wire.readings()) == 1
    meter.silent = True
    wire.run_until(T0 + 39.5)
    timeouts = wire.problems(ProblemKind.TIMEOUT)
    assert len(timeouts) == 9  # one per 4 s cycle from T0 + 4 to T0 + 36, none skipped
    assert "GET_REGISTER" in timeouts[0].detail
    assert all("GET_TYPE" in t.detail for t in timeouts[1:])
    assert len(wire.readings()) == 1
    assert poller.abandoned == 9
    # After the first failed cycle the identity is forgotten: GetType, tried 3 times a cycle.
    silent_requests = [r for t, r in wire.requests if t >= T0 + 8]
    assert silent_requests == [c.get_type_request()] * (3 * 8)
    meter.silent = False
    wire.run_until(T0 + 47)
    assert len(wire.readings()) == 3  # the cycles at T0 + 40 and T0 + 44
    assert wire.readings()[-1].reading.identity.meter_id == "70312845"


def test_answers_that_stay_bad_abandon_the_cycle_but_not_the_schedule() -> None:
    poller = _poller(retries=1)
    wire = Exchange(poller, _meter(), link=_Cut("bad-crc"))
    wire.run_until(T0 + 11.9)
    assert wire.readings() == []
    assert poller.abandoned == 3
    assert wire.problems(ProblemKind.TIMEOUT) == []  # the meter did answer
    assert len(wire.problems(ProblemKind.BAD_CRC)) == 6  # two attempts per cycle
    cycle_starts = [t for t, r in wire.requests if r == c.get_type_request()][::2]
    assert cycle_starts == pytest.approx([T0, T0 + 4, T0 + 8])


def test_registers_the_meter_lacks_are_reported_once_and_not_asked_again() -> None:
    single_phase = KmpMeterModel(OMNIPOWER_MODEL.meter_type,
                                 tuple(r for r in OMNIPOWER_POLL
                                       if r not in (0x041F, 0x0420, 0x0435, 0x0436)))

    class Meter:
        def __init__(self) -> None:
            self.meter = _meter()
            self.responder = KmpResponder(PROFILE, single_phase)

        def receive(self, data: bytes, t: float) -> bytes:
            return self.responder.receive(data, lambda: self.meter.snapshot(t))

    poller = _poller()
    wire = Exchange(poller, Meter())
    wire.run_until(T0 + 8)
    (nak,) = wire.problems(ProblemKind.NAK)
    assert "1055" in nak.detail
    assert "1078" in nak.detail
    assert poller.refused == {0x041F, 0x0420, 0x0435, 0x0436}
    readings = wire.readings()
    assert len(readings) == 3
    for decoded in readings:
        assert set(decoded.reading.values) == EXPECTED - {"52.7.0", "72.7.0", "51.7.0", "71.7.0"}
    asked = b"".join(r for t, r in wire.requests if t > T0 + 1)
    assert (0x041F).to_bytes(2, "big") not in asked


def test_a_meter_with_only_clock_registers_gives_no_reading() -> None:
    """OK needs values: a cycle that reads no register with a value is a problem."""
    clock_only = KmpMeterModel(OMNIPOWER_MODEL.meter_type, (0x03EA, 0x03EB))

    class Meter:
        def __init__(self) -> None:
            self.meter = _meter()
            self.responder = KmpResponder(PROFILE, clock_only)

        def receive(self, data: bytes, t: float) -> bytes:
            return self.responder.receive(data, lambda: self.meter.snapshot(t))

    wire = Exchange(_poller(), Meter())
    wire.run_until(T0 + 8)
    assert wire.readings() == []
    assert len(wire.problems(ProblemKind.NO_KNOWN_VALUES)) == 3


def test_echoed_requests_are_ignored() -> None:
    meter = _meter()
    wire = Exchange(_poller(), meter)
    wire.link = lambda answer, index: wire.requests[index][1] + answer
    wire.run_until(T0 + 1)
    assert wire.problems() == []
    assert len(wire.readings()) == 1


def test_state_machine_walk() -> None:
    meter = _meter()
    poller = _poller(gap=0.05)
    assert _state(poller) is PollerState.IDLE
    assert poller.next_deadline() == T0
    assert poller.poll(T0 - 1) == b""
    request = poller.poll(T0)
    assert request == c.get_type_request()
    assert _state(poller) is PollerState.WAITING
    assert poller.next_deadline() == T0 + TIMEOUT
    assert poller.poll(T0 + 0.5) == b""  # still waiting
    assert poller.feed(meter.receive(request, T0)[:3], T0 + 0.1) == []
    assert _state(poller) is PollerState.WAITING
    assert poller.buffered == 3
    answer = meter.receive(request, T0)
    assert poller.feed(answer[3:], T0 + 0.2) == []
    assert _state(poller) is PollerState.READY
    assert poller.next_deadline() == pytest.approx(T0 + 0.25)
    assert poller.meter_type == OMNIPOWER_MODEL.meter_type
    assert poller.poll(T0 + 0.25) == c.get_serial_request()
    # A late duplicate of the GetType answer matches nothing outstanding: reported, ignored.
    (stray,) = poller.feed(answer, T0 + 0.3)
    assert isinstance(stray, Problem)
    assert stray.kind is ProblemKind.MALFORMED
    assert _state(poller) is PollerState.WAITING
    # An acknowledge is not an answer to a read either.
    (ack,) = poller.feed(b"\x06", T0 + 0.3)
    assert isinstance(ack, Problem)
    assert ack.kind is ProblemKind.MALFORMED
    poller.feed(meter.receive(c.get_serial_request(), T0), T0 + 0.35)
    assert poller.serial == 70312845
    events = []
    now = T0 + 0.4
    while _state(poller) is not PollerState.IDLE:
        request = poller.poll(now)
        if request:
            events += poller.feed(meter.receive(request, now), now)
        now += 0.05
    (decoded,) = events
    assert isinstance(decoded, FrameDecoded)
    assert poller.next_deadline() == T0 + 4.0
    poller.reset(T0 + 5)
    assert poller.meter_type is None
    assert poller.next_deadline() == T0 + 5
    assert poller.poll(T0 + 5) == c.get_type_request()


def test_answers_from_another_address_or_command_do_not_count() -> None:
    poller = _poller()
    poller.poll(T0)
    wrong = codec.encode_response(c.Command.GET_SERIAL_NO, b"\x00\x00\x00\x01")
    other = codec.encode_response(c.Command.GET_TYPE, b"\x06\x84\x02\x03", address=0x7F)
    problems = poller.feed(wrong + other, T0)
    assert [p.kind for p in problems if isinstance(p, Problem)] == [ProblemKind.MALFORMED] * 2
    assert _state(poller) is PollerState.WAITING
    assert poller.meter_type is None


def test_malformed_answer_data_is_retried() -> None:
    poller = _poller()
    first = poller.poll(T0)
    (problem,) = poller.feed(codec.encode_response(c.Command.GET_TYPE, b"\x06"), T0)
    assert isinstance(problem, Problem)
    assert problem.kind is ProblemKind.MALFORMED
    assert _state(poller) is PollerState.READY
    assert poller.poll(T0) == first


def test_unsolicited_answers_while_idle_are_reported() -> None:
    poller = _poller(start=T0 + 10)
    (problem,) = poller.feed(c.serial_response(1), T0)
    assert isinstance(problem, Problem)
    assert problem.kind is ProblemKind.MALFORMED
    assert _state(poller) is PollerState.IDLE
    assert poller.serial is None


@pytest.mark.parametrize("kwargs", [
    {"interval": 0.0}, {"response_timeout": -1.0}, {"retries": -1}, {"gap": -0.1},
    {"batch_size": 9}, {"batch_size": 0},
])
def test_bad_parameters_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        KmpPoller(**kwargs)
    with pytest.raises(ProtocolError):
        KmpPoller([])
    with pytest.raises(ProtocolError):
        KmpPoller([1, 1])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 3), st.binary(max_size=200)), max_size=25))
def test_garbage_never_raises_never_stalls_and_stays_bounded(
        steps: list[tuple[float, bytes]]) -> None:
    poller = _poller()
    now = T0
    for delay, data in steps:
        now += delay
        poller.poll(now)
        poller.take_events()
        for event in poller.feed(data, now):
            assert isinstance(event, Problem | FrameDecoded)
        assert poller.buffered <= codec.MAX_FRAME
        if not poller.poll(now):
            assert poller.next_deadline() > now
