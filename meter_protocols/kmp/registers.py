"""The KMP registers of Kamstrup electricity meters, mapped to OBIS codes.

Kamstrup publishes its register ids only under NDA; what is public comes from meter
technical descriptions and from people who read their own meters. Each row names its
source. Where nothing public exists the id is ours ("assumed"): the emulator's meter and
its gateway use the same ids, so they agree with each other, but a real meter may differ.

Sources:
- [P] bsdphk/PyKamstrup (Poul-Henning Kamp's KMP reader) and its forks: register table of
  the Kamstrup 382 electricity meter, which the later 162/382/OMNIPOWER generations share.
- [S] community Arduino/ESPHome readers of the Kamstrup 382Lx7 over the optical eye
  (Hal9k kamstrup_powermeter and derivatives): the "MaxPower" register.
- [M] Kamstrup MULTICAL technical descriptions (register id tables) and the real MULTICAL
  403 capture in shared/fixtures/real/kmp: clock 1002 (hh:mm:ss), date 1003 (yy:mm:dd).
  Assumed to be the same ids in electricity meters.
- [A] assumed by this project, no public source: R+/R- follow A+ (1) and A- (2) as the
  third and fourth of the "four main energy registers A+, A-, R+, R-" of the Kamstrup
  162M/382M technical description; the power-factor id is free in every public table; so
  are the per-tariff energies (0x10-0x13), the reactive powers Q+/Q- (0x401/0x402, after
  P+/P- at 0x3FF/0x400) and the active tariff (0x412).

Resolutions (the exponent a meter sends): 1 Wh / 1 varh for energies, as a real OMNIPOWER
read by a whatwatt Go shows them (0.001 kWh in its report); 1 W and 1 var for powers, 1 V
(its report shows whole volts), 0.01 A, 0.001 for the power factor. A gateway decodes
whatever exponent and unit the meter sends; only the emulator's meter uses these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from meter_protocols.kmp import values as u


@dataclass(frozen=True, slots=True)
class KmpRegister:
    id: int
    name: str
    obis: str | None  # C.D.E of the value in a MeterReading; None: the clock registers
    unit: int  # unit code the emulated meter sends
    exponent: int  # resolution the emulated meter sends: value = mantissa * 10^exponent
    source: str  # P, S, M or A (see the module docstring)


def _rows() -> list[KmpRegister]:
    r = KmpRegister
    rows = [
        r(0x0001, "Active energy A+", "1.8.0", u.KWH, -3, "P"),
        r(0x0002, "Active energy A-", "2.8.0", u.KWH, -3, "P"),
        r(0x0003, "Reactive energy R+", "3.8.0", u.KVARH, -3, "A"),
        r(0x0004, "Reactive energy R-", "4.8.0", u.KVARH, -3, "A"),
        r(0x0010, "Active energy A+ tariff 1", "1.8.1", u.KWH, -3, "A"),
        r(0x0011, "Active energy A+ tariff 2", "1.8.2", u.KWH, -3, "A"),
        r(0x0012, "Active energy A- tariff 1", "2.8.1", u.KWH, -3, "A"),
        r(0x0013, "Active energy A- tariff 2", "2.8.2", u.KWH, -3, "A"),
        r(0x0027, "Maximum demand P+", "1.6.0", u.KW, -3, "S"),
        r(0x03EA, "Clock", None, u.CLOCK, 0, "M"),
        r(0x03EB, "Date", None, u.DATE, 0, "M"),
        r(0x03FF, "Active power P+", "1.7.0", u.KW, -3, "P"),
        r(0x0400, "Active power P-", "2.7.0", u.KW, -3, "P"),
        r(0x0401, "Reactive power Q+", "3.7.0", u.KVAR, -3, "A"),
        r(0x0402, "Reactive power Q-", "4.7.0", u.KVAR, -3, "A"),
        r(0x0410, "Power factor", "13.7.0", u.NO_UNIT, -3, "A"),
        r(0x0412, "Active tariff", None, u.NO_UNIT, 0, "A"),
    ]
    for phase, (voltage, current, p_in, p_out) in enumerate(
        ((0x041E, 0x0434, 0x0438, 0x0540), (0x041F, 0x0435, 0x0439, 0x0541),
         (0x0420, 0x0436, 0x043A, 0x0542)), start=1):
        offset = 20 * phase
        rows += [
            r(voltage, f"Voltage L{phase}", f"{offset + 12}.7.0", u.VOLT, 0, "P"),
            r(current, f"Current L{phase}", f"{offset + 11}.7.0", u.AMPERE, -2, "P"),
            r(p_in, f"Active power P+ L{phase}", f"{offset + 1}.7.0", u.KW, -3, "P"),
            r(p_out, f"Active power P- L{phase}", f"{offset + 2}.7.0", u.KW, -3, "P"),
        ]
    return rows


REGISTERS: Final[dict[int, KmpRegister]] = {row.id: row for row in _rows()}

CLOCK_REGISTER: Final = 0x03EA
DATE_REGISTER: Final = 0x03EB
TARIFF_REGISTER: Final = 0x0412

#: What a gateway asks an OMNIPOWER three-phase meter for, in this order (batches of 8
#: are cut from it, so clock and date travel in the same answer).
OMNIPOWER_POLL: Final[tuple[int, ...]] = (
    0x0001, 0x0002, 0x0003, 0x0004, 0x0027, CLOCK_REGISTER, DATE_REGISTER, 0x03FF,
    0x0400, 0x0410, 0x0438, 0x0439, 0x043A, 0x0540, 0x0541, 0x0542,
    0x041E, 0x041F, 0x0420, 0x0434, 0x0435, 0x0436, 0x0401, 0x0402,
    0x0010, 0x0011, 0x0012, 0x0013, TARIFF_REGISTER,
)


def batches(ids: tuple[int, ...], size: int) -> tuple[tuple[int, ...], ...]:
    return tuple(ids[i:i + size] for i in range(0, len(ids), size))
