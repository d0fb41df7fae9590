"""The meter's side of KMP: answers a gateway's requests from the virtual meter's registers.

How the emulated meter treats what it receives (a meter on a bus cannot tell who sent a
damaged request, so it says nothing rather than guess):

- a request with a bad CRC, bad stuffing, cut off, or addressed to another address: silence;
- frames that start with 0x40 (other meters' answers, or our own echo): ignored;
- an unknown command (CID), or a known one with malformed data (GetType/GetSerialNo with
  data, GetRegister with a count of 0 or more than 8 or a length that does not match its
  count): silence;
- GetRegister for registers the meter does not have: those are left out of the answer,
  in request order; if it has none of them the answer carries no values at all.

Register values come from one snapshot per GetRegister request, taken only when the
request is complete and valid, so values in one answer belong to the same instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from meter_protocols.errors import ProtocolError
from meter_protocols.guard import INPUT_FAULTS
from meter_protocols.kmp.codec import METER_ADDRESS, Direction, Message
from meter_protocols.kmp.commands import (
    Command,
    MeterType,
    parse_register_request,
    register_response,
    serial_response,
    type_response,
)
from meter_protocols.kmp.framer import KmpFramer
from meter_protocols.kmp.registers import REGISTERS, TARIFF_REGISTER, KmpRegister
from meter_protocols.kmp.values import (
    CLOCK,
    DATE,
    MAX_MANTISSA_BYTES,
    RegisterValue,
    encode_value,
    unit,
)
from meter_protocols.simulator.profile import Profile
from meter_protocols.simulator.state import MeterSnapshot


@dataclass(frozen=True, slots=True)
class KmpMeterModel:
    """What a KMP meter model answers besides its registers' values."""

    meter_type: MeterType
    registers: tuple[int, ...]  # the registers it has (ids from registers.REGISTERS)
    address: int = METER_ADDRESS


class KmpResponder:
    """Implements simulator.profile.Responder for a KMP meter."""

    def __init__(self, profile: Profile, model: KmpMeterModel) -> None:
        meter_id = profile.identity.meter_id
        if not meter_id.isdigit() or int(meter_id) > 0xFFFFFFFF:
            raise ProtocolError(f"a KMP serial number is a 32-bit number, got {meter_id!r}")
        unknown = [r for r in model.registers if r not in REGISTERS]
        if unknown:
            raise ProtocolError(f"registers without a catalogue entry: {unknown}")
        self.profile = profile
        self.model = model
        self.serial = int(meter_id)
        self._known = {r: REGISTERS[r] for r in model.registers}
        self._framer = KmpFramer()
        self.faults = 0  # requests the net of meter_protocols.guard had to catch

    @property
    def buffered(self) -> int:
        return self._framer.buffered

    def receive(self, data: bytes, snapshot: Callable[[], MeterSnapshot]) -> bytes:
        answers = bytearray()
        try:
            for item in self._framer.feed(data):
                if isinstance(item, Message) and item.direction is Direction.REQUEST:
                    answers += self._answer(item, snapshot)
        except INPUT_FAULTS:
            # The net under "never raises" (meter_protocols.guard): a meter that cannot
            # answer a request says nothing, as for any request it does not understand.
            self._framer.reset()
            self.faults += 1
        return bytes(answers)

    def _answer(self, request: Message, snapshot: Callable[[], MeterSnapshot]) -> bytes:
        address = self.model.address
        if request.address != address:
            return b""
        if request.cid == Command.GET_TYPE and not request.data:
            return type_response(self.model.meter_type, address)
        if request.cid == Command.GET_SERIAL_NO and not request.data:
            return serial_response(self.serial, address)
        if request.cid == Command.GET_REGISTER:
            wanted = parse_register_request(request.data)
            if wanted is None:
                return b""
            snap = snapshot()
            values = [v for v in (self._value(r, snap) for r in wanted) if v is not None]
            return register_response(values, address)
        return b""

    def _value(self, register: int, snap: MeterSnapshot) -> RegisterValue | None:
        spec = self._known.get(register)
        if spec is None:
            return None
        return register_value(spec, snap)


def register_value(spec: KmpRegister, snap: MeterSnapshot) -> RegisterValue | None:
    """The value a meter sends for a register, from its snapshot (None if it has none)."""
    if spec.unit == CLOCK:
        t = snap.meter_time
        return encode_value(spec.id, CLOCK, t.hour * 10000 + t.minute * 100 + t.second, 0)
    if spec.unit == DATE:
        t = snap.meter_time
        return encode_value(spec.id, DATE, t.year % 100 * 10000 + t.month * 100 + t.day, 0)
    if spec.id == TARIFF_REGISTER:
        return encode_value(spec.id, spec.unit, snap.tariff, 0)
    if spec.obis is None or spec.obis not in snap.values:
        return None
    return encode_value(spec.id, spec.unit, _saturated(snap.values[spec.obis], spec),
                        spec.exponent)


def _saturated(value: float, spec: KmpRegister) -> Decimal:
    """The value in the register's unit, as the register can hold it: the mantissa has at
    most 8 bytes, so a larger value (or infinity) saturates there, and NaN reads 0."""
    if math.isnan(value):
        return Decimal(0)
    top = Decimal(2 ** (8 * MAX_MANTISSA_BYTES) - 1).scaleb(spec.exponent)
    if math.isinf(value):
        return top.copy_sign(Decimal(value))
    exact = Decimal(value) / unit(spec.unit).factor
    return max(-top, min(top, exact))
