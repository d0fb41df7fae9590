"""The KMP commands a gateway uses to read a meter, both ends.

| CID  | command     | request data                  | answer data                         |
|------|-------------|-------------------------------|-------------------------------------|
| 0x01 | GetType     | -                             | meter type (2 bytes), software      |
|      |             |                               | revision (2 bytes: letter, number)  |
| 0x02 | GetSerialNo | -                             | serial number (4 bytes, big-endian) |
| 0x10 | GetRegister | count (1..8), register ids    | one value per register the meter    |
|      |             | (2 bytes each)                | knows (values.py), unknown omitted  |

The software revision's first byte is a letter counted from A = 1 ("06 01" is "F1").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from meter_protocols.errors import ProtocolError
from meter_protocols.kmp.codec import METER_ADDRESS, encode_request, encode_response
from meter_protocols.kmp.values import RegisterValue, decode_values


class Command(IntEnum):
    GET_TYPE = 0x01
    GET_SERIAL_NO = 0x02
    GET_REGISTER = 0x10


#: Registers one GetRegister request may ask for.
MAX_REGISTERS: Final = 8

#: Meter type codes (GetType) with a name. 0x0684 is this project's code for the emulated
#: OMNIPOWER (Kamstrup's type number 684 written in hex digits); real codes are not public.
METER_TYPES: Final[dict[int, str]] = {0x0684: "OMNIPOWER"}


@dataclass(frozen=True, slots=True)
class MeterType:
    type_code: int
    revision: int  # two bytes: letter (A = 1) and number

    @property
    def revision_text(self) -> str:
        letter, number = self.revision >> 8, self.revision & 0xFF
        prefix = chr(ord("A") + letter - 1) if 1 <= letter <= 26 else f"{letter}."
        return f"{prefix}{number}"

    @property
    def model(self) -> str:
        return METER_TYPES.get(self.type_code, f"KMP type {self.type_code:04X}")

    @property
    def model_text(self) -> str:
        """The model as a whatwatt Go shows it: the type and its revision in hexadecimal
        digits ("OMNIPOWER rev. AF1" for revision 0x0AF1)."""
        return f"{self.model} rev. {self.revision:X}"


# Gateway side: requests out, answers in.

def get_type_request(address: int = METER_ADDRESS) -> bytes:
    return encode_request(Command.GET_TYPE, b"", address)


def get_serial_request(address: int = METER_ADDRESS) -> bytes:
    return encode_request(Command.GET_SERIAL_NO, b"", address)


def get_register_request(registers: Sequence[int], address: int = METER_ADDRESS) -> bytes:
    if not 1 <= len(registers) <= MAX_REGISTERS:
        raise ProtocolError(f"GetRegister asks for 1..{MAX_REGISTERS} registers, "
                            f"got {len(registers)}")
    if any(not 0 <= r <= 0xFFFF for r in registers):
        raise ProtocolError(f"register ids are 16-bit: {list(registers)}")
    data = bytes((len(registers),)) + b"".join(r.to_bytes(2, "big") for r in registers)
    return encode_request(Command.GET_REGISTER, data, address)


def parse_type(data: bytes) -> MeterType | None:
    if len(data) != 4:
        return None
    return MeterType(int.from_bytes(data[:2], "big"), int.from_bytes(data[2:], "big"))


def parse_serial(data: bytes) -> int | None:
    return int.from_bytes(data, "big") if len(data) == 4 else None


def parse_registers(data: bytes) -> tuple[RegisterValue, ...] | None:
    return decode_values(data)


# Meter side: requests in, answers out.

def parse_register_request(data: bytes) -> tuple[int, ...] | None:
    """The register ids of a GetRegister request; None if the request is not well formed."""
    if not data or not 1 <= data[0] <= MAX_REGISTERS or len(data) != 1 + 2 * data[0]:
        return None
    return tuple(int.from_bytes(data[i:i + 2], "big") for i in range(1, len(data), 2))


def type_response(meter_type: MeterType, address: int = METER_ADDRESS) -> bytes:
    data = meter_type.type_code.to_bytes(2, "big") + meter_type.revision.to_bytes(2, "big")
    return encode_response(Command.GET_TYPE, data, address)


def serial_response(serial: int, address: int = METER_ADDRESS) -> bytes:
    if not 0 <= serial <= 0xFFFFFFFF:
        raise ProtocolError(f"a KMP serial number has 4 bytes, got {serial}")
    return encode_response(Command.GET_SERIAL_NO, serial.to_bytes(4, "big"), address)


def register_response(values: Sequence[RegisterValue], address: int = METER_ADDRESS) -> bytes:
    return encode_response(Command.GET_REGISTER, b"".join(v.to_bytes() for v in values),
                           address)
