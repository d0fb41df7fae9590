"""KMP register values: unit codes and the base-10 number format.

A register value on the wire::

    register id (2 bytes, big-endian)  unit code (1)  length (1)  sign-and-exponent (1)
    mantissa (`length` bytes, big-endian, unsigned)

Sign-and-exponent: bit 7 is the sign of the mantissa (1 = negative), bit 6 the sign of
the exponent (1 = negative), bits 0-5 the exponent's magnitude. The value is
(-1)^s * mantissa * 10^(+/-exponent), kept as a Decimal so nothing is lost.

Unit codes are Kamstrup's (0 none, 1 Wh, 2 kWh, ... 64 date-time); their names follow
the table published with the KMP community tools. Codes 21 and 22 are both kW, and 25 and
26 both kvar, in that table; which of each pair a meter sends is not documented, so both
convert alike (the KMP documentation's own example sends a kW value with code 22).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

from meter_protocols.errors import ProtocolError

#: Largest exponent magnitude the sign-and-exponent byte holds.
MAX_EXPONENT: Final = 0x3F
#: Mantissa lengths a value may use (bytes).
MAX_MANTISSA_BYTES: Final = 8
_HEADER = 5  # id, unit, length, sign-and-exponent


@dataclass(frozen=True, slots=True)
class Unit:
    code: int
    name: str
    base: str | None = None  # the catalogue's base unit (Wh, W, V, ...), "" unitless
    factor: Decimal = Decimal(1)  # value in this unit * factor = value in `base`


def _units() -> dict[int, Unit]:
    names = (
        "", "Wh", "kWh", "MWh", "GWh", "J", "kJ", "MJ", "GJ", "Cal", "kCal", "Mcal", "Gcal",
        "varh", "kvarh", "Mvarh", "Gvarh", "VAh", "kVAh", "MVAh", "GVAh", "kW", "kW", "MW",
        "GW", "kvar", "kvar", "Mvar", "Gvar", "VA", "kVA", "MVA", "GVA", "V", "A", "kV", "kA",
        "C", "K", "l", "m3", "l/h", "m3/h", "m3xC", "ton", "ton/h", "h", "hh:mm:ss",
        "yy:mm:dd", "yyyy:mm:dd", "mm:dd", "", "bar", "RTC", "ASCII", "m3 x 10", "ton x 10",
        "GJ x 10", "minutes", "Bitfield", "s", "ms", "days", "RTC-Q", "Datetime",
    )
    electrical: dict[int, tuple[str, int]] = {
        0: ("", 0), 51: ("", 0),
        1: ("Wh", 0), 2: ("Wh", 3), 3: ("Wh", 6), 4: ("Wh", 9),
        13: ("varh", 0), 14: ("varh", 3), 15: ("varh", 6), 16: ("varh", 9),
        17: ("VAh", 0), 18: ("VAh", 3), 19: ("VAh", 6), 20: ("VAh", 9),
        21: ("W", 3), 22: ("W", 3), 23: ("W", 6), 24: ("W", 9),
        25: ("var", 3), 26: ("var", 3), 27: ("var", 6), 28: ("var", 9),
        29: ("VA", 0), 30: ("VA", 3), 31: ("VA", 6), 32: ("VA", 9),
        33: ("V", 0), 34: ("A", 0), 35: ("V", 3), 36: ("A", 3),
    }
    table = {}
    for code, name in enumerate(names):
        base, power = electrical.get(code, (None, 0))
        table[code] = Unit(code, name, base, Decimal(1).scaleb(power))
    return table


UNITS: Final[dict[int, Unit]] = _units()

KWH: Final = 2
KVARH: Final = 14
KW: Final = 22
KVAR: Final = 26
VOLT: Final = 33
AMPERE: Final = 34
NO_UNIT: Final = 0
CLOCK: Final = 47  # hh:mm:ss, sent as the integer hhmmss
DATE: Final = 48  # yy:mm:dd, sent as the integer yymmdd


def unit(code: int) -> Unit:
    """The unit for a code; unknown codes get an empty name and no base unit."""
    return UNITS.get(code) or Unit(code, f"unit {code}")


@dataclass(frozen=True, slots=True)
class RegisterValue:
    """One register as a meter sends it."""

    register: int
    unit: int
    sign_exponent: int
    mantissa: bytes

    @property
    def negative(self) -> bool:
        return bool(self.sign_exponent & 0x80)

    @property
    def exponent(self) -> int:
        magnitude = self.sign_exponent & MAX_EXPONENT
        return -magnitude if self.sign_exponent & 0x40 else magnitude

    @property
    def integer(self) -> int:
        """The signed mantissa."""
        value = int.from_bytes(self.mantissa, "big")
        return -value if self.negative else value

    @property
    def value(self) -> Decimal:
        """The exact value in the register's unit (a clock register: the integer hhmmss)."""
        return Decimal(self.integer).scaleb(self.exponent)

    def text(self) -> str:
        """The value with its unit, as a human would read it ("61.62 C")."""
        name = unit(self.unit).name
        return f"{self.value} {name}" if name else str(self.value)

    def to_bytes(self) -> bytes:
        return (self.register.to_bytes(2, "big")
                + bytes((self.unit, len(self.mantissa), self.sign_exponent)) + self.mantissa)


def sign_exponent(negative: bool, exponent: int) -> int:
    if abs(exponent) > MAX_EXPONENT:
        raise ProtocolError(f"KMP exponent out of range: {exponent}")
    return (0x80 if negative else 0) | (0x40 if exponent < 0 else 0) | abs(exponent)


def encode_value(register: int, unit_code: int, value: Decimal | float | int, exponent: int,
                 length: int = 4) -> RegisterValue:
    """The register value for `value` at the register's resolution 10^exponent.

    The mantissa is value / 10^exponent rounded half-even, so the value sent is exactly the
    value rounded to the register's resolution. The mantissa takes `length` bytes, more
    (up to 8) if it does not fit. Raises ProtocolError for values that cannot be sent.
    """
    if not 0 <= register <= 0xFFFF or not 0 <= unit_code <= 0xFF:
        raise ProtocolError(f"register id or unit code out of range: {register}, {unit_code}")
    try:
        exact = value if isinstance(value, Decimal) else Decimal(value)
        scaled = exact.scaleb(-exponent).to_integral_value(rounding=ROUND_HALF_EVEN)
        mantissa = int(scaled)
    except (InvalidOperation, ValueError, OverflowError) as exc:
        raise ProtocolError(f"not a finite number: {value!r}") from exc
    flags = sign_exponent(mantissa < 0, exponent)
    mantissa = abs(mantissa)
    size = max(length, 1, (mantissa.bit_length() + 7) // 8)
    if size > MAX_MANTISSA_BYTES:
        raise ProtocolError(f"value {value} does not fit {MAX_MANTISSA_BYTES} bytes at "
                            f"10^{exponent}")
    return RegisterValue(register, unit_code, flags, mantissa.to_bytes(size, "big"))


def decode_values(data: bytes) -> tuple[RegisterValue, ...] | None:
    """Split a GetRegister answer's data into register values; None when it is cut short."""
    values: list[RegisterValue] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < _HEADER:
            return None
        register = int.from_bytes(data[pos:pos + 2], "big")
        unit_code, length, flags = data[pos + 2], data[pos + 3], data[pos + 4]
        end = pos + _HEADER + length
        if end > len(data):
            return None
        values.append(RegisterValue(register, unit_code, flags, bytes(data[pos + _HEADER:end])))
        pos = end
    return tuple(values)
