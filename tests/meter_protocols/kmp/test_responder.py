"""The meter side: what the emulated OMNIPOWER answers, and what it does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_protocols.errors import ProtocolError
from meter_protocols.kmp import codec
from meter_protocols.kmp import commands as c
from meter_protocols.kmp.framer import KmpFramer
from meter_protocols.kmp.registers import OMNIPOWER_POLL, REGISTERS
from meter_protocols.kmp.responder import KmpMeterModel, KmpResponder
from meter_protocols.kmp.values import RegisterValue, unit
from meter_protocols.readings import MeterIdentity
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_kmp import OMNIPOWER_MODEL
from meter_protocols.simulator.state import MeterSnapshot

from .wire import T0

PROFILE = get_profile("kamstrup-omnipower")


class Snapshots:
    """A snapshot source that counts how often the responder asked for one."""

    def __init__(self) -> None:
        self.meter = VirtualMeter(PROFILE, seed=7, start=T0)
        self.calls = 0
        self.last: MeterSnapshot | None = None

    def __call__(self) -> MeterSnapshot:
        self.calls += 1
        self.last = self.meter.snapshot(T0 + 30)
        return self.last


def _responder(model: KmpMeterModel = OMNIPOWER_MODEL) -> KmpResponder:
    return KmpResponder(PROFILE, model)


def _answers(raw: bytes) -> list[codec.Message]:
    items = KmpFramer().feed(raw)
    assert all(isinstance(i, codec.Message) for i in items), items
    return [i for i in items if isinstance(i, codec.Message)]


def _registers(raw: bytes) -> tuple[RegisterValue, ...]:
    (answer,) = _answers(raw)
    assert answer.direction is codec.Direction.RESPONSE
    assert answer.cid == c.Command.GET_REGISTER
    values = c.parse_registers(answer.data)
    assert values is not None
    return values


def test_identity_answers() -> None:
    snapshots = Snapshots()
    responder = _responder()
    (type_answer,) = _answers(responder.receive(c.get_type_request(), snapshots))
    assert c.parse_type(type_answer.data) == OMNIPOWER_MODEL.meter_type
    (serial_answer,) = _answers(responder.receive(c.get_serial_request(), snapshots))
    assert c.parse_serial(serial_answer.data) == int(PROFILE.identity.meter_id)
    assert snapshots.calls == 0  # identity needs no register snapshot


def test_register_values_come_from_the_snapshot() -> None:
    snapshots = Snapshots()
    responder = _responder()
    ids = (0x0001, 0x0003, 0x03FF, 0x0540, 0x041E, 0x0434, 0x0410, 0x0027)
    values = _registers(responder.receive(c.get_register_request(ids), snapshots))
    assert snapshots.calls == 1
    assert snapshots.last is not None
    snap = snapshots.last
    assert tuple(v.register for v in values) == ids
    for value in values:
        spec = REGISTERS[value.register]
        assert spec.obis is not None
        assert value.unit == spec.unit
        assert value.exponent == spec.exponent
        factor = float(unit(spec.unit).factor)
        base = float(value.value) * factor
        resolution = 10.0 ** spec.exponent * factor
        assert base == pytest.approx(snap.values[spec.obis], abs=resolution / 2 + 1e-9)


def test_clock_and_date_registers() -> None:
    snapshots = Snapshots()
    values = _registers(_responder().receive(c.get_register_request([0x03EA, 0x03EB]),
                                             snapshots))
    assert snapshots.last is not None
    t = snapshots.last.meter_time
    assert [v.value for v in values] == [Decimal(int(t.strftime("%H%M%S"))),
                                         Decimal(int(t.strftime("%y%m%d")))]
    assert [v.unit for v in values] == [47, 48]


def test_unknown_registers_are_left_out() -> None:
    snapshots = Snapshots()
    responder = _responder()
    values = _registers(responder.receive(c.get_register_request([0x0001, 0x7777, 0x0002]),
                                          snapshots))
    assert [v.register for v in values] == [0x0001, 0x0002]
    assert _registers(responder.receive(c.get_register_request([0x7777]), snapshots)) == ()


def test_single_phase_model_lacks_phase_registers() -> None:
    model = KmpMeterModel(OMNIPOWER_MODEL.meter_type, (0x0001, 0x041E))
    values = _registers(_responder(model).receive(c.get_register_request([0x041E, 0x041F]),
                                                  Snapshots()))
    assert [v.register for v in values] == [0x041E]


def _corrupt_crc(frame: bytes) -> bytes:
    datalink = codec.unstuff(frame[1:-1])
    assert datalink is not None
    broken = datalink[:-1] + bytes((datalink[-1] ^ 0x01,))
    return frame[:1] + codec.stuff(broken) + frame[-1:]


@pytest.mark.parametrize("request_bytes", [
    pytest.param(_corrupt_crc(c.get_type_request()), id="bad-crc"),
    pytest.param(c.get_type_request(address=0x7F), id="other-address"),
    pytest.param(codec.encode_request(0x11, b"\x01\x00\x01"), id="unknown-cid"),
    pytest.param(codec.encode_request(c.Command.GET_TYPE, b"\x00"), id="gettype-with-data"),
    pytest.param(codec.encode_request(c.Command.GET_REGISTER, b"\x09" + b"\x00\x01" * 9),
                 id="nine-registers"),
    pytest.param(codec.encode_request(c.Command.GET_REGISTER, b"\x02\x00\x01"),
                 id="count-mismatch"),
    pytest.param(c.get_type_request()[:-1], id="no-stop-byte"),
    pytest.param(codec.encode_response(c.Command.GET_TYPE), id="a-response"),
    pytest.param(b"\x06", id="ack"),
])
def test_invalid_requests_get_silence(request_bytes: bytes) -> None:
    snapshots = Snapshots()
    assert _responder().receive(request_bytes, snapshots) == b""
    assert snapshots.calls == 0


def test_requests_split_or_joined() -> None:
    snapshots = Snapshots()
    responder = _responder()
    request = c.get_register_request(OMNIPOWER_POLL[:8])
    for byte in request[:-1]:
        assert responder.receive(bytes((byte,)), snapshots) == b""
    assert len(_registers(responder.receive(request[-1:], snapshots))) == 8
    both = responder.receive(c.get_type_request() + c.get_serial_request(), snapshots)
    assert [a.cid for a in _answers(both)] == [c.Command.GET_TYPE, c.Command.GET_SERIAL_NO]


def test_bad_serial_or_registers_refused_at_construction() -> None:
    with pytest.raises(ProtocolError):
        KmpResponder(replace(PROFILE, identity=MeterIdentity(meter_id="KAM-1")), OMNIPOWER_MODEL)
    with pytest.raises(ProtocolError):
        _responder(KmpMeterModel(OMNIPOWER_MODEL.meter_type, (0x7777,)))


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=300), max_size=10))
def test_garbage_never_raises_and_buffer_stays_bounded(chunks: list[bytes]) -> None:
    responder = _responder()
    source: Callable[[], MeterSnapshot] = Snapshots()
    for chunk in chunks:
        answer = responder.receive(chunk, source)
        assert all(isinstance(i, codec.Message) for i in KmpFramer().feed(answer))
        assert responder.buffered <= codec.MAX_FRAME
