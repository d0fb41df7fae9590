"""What the bytes received at the wrong settings say about the right ones.

A UART set wrongly does not receive nothing: it receives garbage with a signature. These
signatures were measured with meter_protocols.uart (tests/meter_protocols/test_detect.py
keeps them honest):

- reader at least ~10x faster than the meter: nearly every character is 0x00 with a framing
  error and a break (each low stretch of the meter's signal is longer than a character).
  The meter's rate follows from how many such characters arrive per second (about 2.85 low
  stretches per character on the wire).
- reader 2-9x faster: every character starts with a run of low bits as long as one bit of
  the meter (0xF8, 0xF0, 0x80, 0x78 ...); the shortest such run gives the ratio.
- 7E1 read as 8N1 (same baud): clean bytes whose top bit is the even parity of the low 7.
- 8E1 read as 8N1: the right bytes, with a framing error exactly on those of even weight
  (the parity bit, 0 for them, lands where the stop bit should be).
- 8N1/8N2 read as 8E1: parity errors exactly on the bytes of even weight.
- inverted line: the line rests low, so every burst ends with a break.
- reader slower than the meter: garbage without those runs, mixed framing errors.

`analyse()` turns a window's bytes into `Evidence`: hints with weights that the candidate
search adds to its prior order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

from meter_protocols.detect.sniff import Family, sniff
from meter_protocols.guard import INPUT_FAULTS
from meter_protocols.line import LineSettings, Parity
from meter_protocols.uart import ErrorFlag

#: Fewer bytes than this say nothing reliable.
MIN_BYTES: Final = 12
#: Low stretches per character of typical meter data (measured: 2.7-3.0 for P1 text and
#: binary DLMS); used to turn a rate of breaks into the meter's baud rate.
LOW_RUNS_PER_CHAR: Final = 2.85
#: Bits per character assumed for that estimate (between 8N1 and 8E1).
BITS_PER_CHAR: Final = 10.5
#: At most this share of flagged bytes still counts as clean reception: switching settings
#: in the middle of a character corrupts one or two, and a real line has the odd glitch.
NEAR_CLEAN: Final = 0.02


@dataclass(frozen=True, slots=True)
class Evidence:
    """Hints about the right line settings, each with a weight (0 = no opinion)."""

    text: str = ""
    family: Family | None = None  # a protocol recognised in the bytes
    family_weight: float = 0.0
    exact: tuple[tuple[LineSettings, float], ...] = ()  # these settings (stop bits free)
    baud: float | None = None  # estimated baud rate of the meter
    baud_weight: float = 0.0
    max_baud: float | None = None  # the meter is slower than this
    min_baud: float | None = None  # the meter is not much slower than this
    bound_weight: float = 0.0
    inverted: bool | None = None
    inverted_weight: float = 0.0
    clean: bool = False  # the bytes arrived without UART errors

    def weaker(self, factor: float) -> Evidence:
        return replace(
            self, family_weight=self.family_weight * factor,
            exact=tuple((line, w * factor) for line, w in self.exact),
            baud_weight=self.baud_weight * factor, bound_weight=self.bound_weight * factor,
            inverted_weight=self.inverted_weight * factor)

    def rate(self, line: LineSettings, family: Family) -> float:
        """How much this evidence speaks for reading with `line` and `family`."""
        score = 0.0
        if self.family is not None:
            score += self.family_weight if family is self.family else -self.family_weight / 2
        for hinted, weight in self.exact:
            if (hinted.baudrate == line.baudrate and hinted.data_bits == line.data_bits
                    and hinted.parity is line.parity and hinted.inverted == line.inverted):
                score += weight
        if self.baud is not None:
            # Full weight at the estimate, fading to nothing at a factor 2.8 away: break
            # rates depend on the data, so an estimate is good to a factor ~1.5 only.
            distance = abs(math.log2(line.baudrate / self.baud))
            score += self.baud_weight * max(0.0, 1.0 - distance / 1.5)
        if self.max_baud is not None:
            score += self.bound_weight if line.baudrate <= self.max_baud else -self.bound_weight
        if self.min_baud is not None:
            score += self.bound_weight if line.baudrate >= self.min_baud else -self.bound_weight
        if self.inverted is not None:
            score += self.inverted_weight if line.inverted == self.inverted \
                else -self.inverted_weight
        return score


def _frame(line: LineSettings, data_bits: int, parity: Parity) -> LineSettings:
    return LineSettings(line.baudrate, data_bits, parity, 1.0, line.inverted)


def _p7_share(data: bytes, odd: bool) -> float:
    hits = sum(((b >> 7) & 1) == ((b & 0x7F).bit_count() & 1) ^ odd for b in data)
    return hits / len(data)


def analyse(data: bytes, flags: bytes | None, reader: LineSettings, *,
            chars_per_second: float | None = None, bursts: int = 0,
            bursts_ending_in_break: int = 0) -> Evidence:
    """What `data` (with per-byte ErrorFlag `flags`, None when the transport cannot tell)
    received at `reader` says. `chars_per_second` is the rate during bursts, when known.
    Never raises: bytes that break the analysis are evidence of nothing."""
    try:
        return _analyse(data, flags, reader, chars_per_second=chars_per_second,
                        bursts=bursts, bursts_ending_in_break=bursts_ending_in_break)
    except INPUT_FAULTS as exc:  # the net of meter_protocols.guard
        return Evidence(f"{len(data)} bytes at {reader} could not be analysed "
                        f"({type(exc).__name__})")


def _analyse(data: bytes, flags: bytes | None, reader: LineSettings, *,
             chars_per_second: float | None, bursts: int,
             bursts_ending_in_break: int) -> Evidence:
    n = len(data)
    if flags is not None and len(flags) != n:  # a line that miscounted: pad or cut
        flags = bytes(flags[:n]).ljust(n, b"\x00")
    found = sniff(data)
    best = found.best()
    where = f"{reader.baudrate} baud"
    if flags is None or not any(flags) or (
            n >= MIN_BYTES and sum(1 for f in flags if f) <= NEAR_CLEAN * n):
        if best is not None:
            seen = best[0]
            return Evidence(f"{seen.label} frames seen at {reader}", seen, 100.0,
                            ((reader, 100.0),), clean=True)
        if n >= MIN_BYTES and flags is not None and reader.data_bits == 8:
            seven = _seven_bit(data, reader)
            if seven is not None:
                return seven
        return Evidence(f"{n} clean bytes at {reader} fit no protocol yet", clean=True)
    if n < MIN_BYTES:
        return Evidence(f"only {n} bytes at {where}")
    framing = sum(1 for f in flags if f & ErrorFlag.FRAMING) / n
    parity = sum(1 for f in flags if f & ErrorFlag.PARITY) / n
    breaks = sum(1 for f in flags if f & ErrorFlag.BREAK) / n
    family = best[0] if best is not None else None
    fam_w = 60.0 if family is not None else 0.0

    # A line resting low: every burst ends in a break, while breaks are otherwise rare.
    if bursts and bursts_ending_in_break == bursts and breaks < 0.3:
        return Evidence(f"bytes at {where} end every burst in a break: the line is inverted",
                        family, fam_w, ((replace(reader, inverted=not reader.inverted), 80.0),),
                        inverted=not reader.inverted, inverted_weight=40.0)

    # The meter is much slower: nothing but breaks.
    if breaks >= 0.5:
        max_baud = reader.baudrate / 9.0
        estimate = None
        if chars_per_second:
            estimate = chars_per_second * BITS_PER_CHAR / LOW_RUNS_PER_CHAR
        if estimate is not None and estimate <= max_baud:
            return Evidence(f"bytes arrive at {where} as breaks: the meter is much slower, "
                            f"about {estimate:.0f} baud", baud=estimate, baud_weight=60.0,
                            max_baud=max_baud, bound_weight=40.0)
        return Evidence(f"bytes arrive at {where} as breaks: the meter is much slower",
                        max_baud=max_baud, bound_weight=40.0)

    # Somewhat slower: every character begins with one of the meter's (longer) bits.
    runs = sorted((b & -b).bit_length() for b in data if b)
    if runs:
        low_run = runs[len(runs) // 10]  # trailing zeros + 1 = low samples after the start
        if low_run >= 2 and framing >= 0.2:
            estimate = reader.baudrate / low_run
            if estimate >= 200:
                return Evidence(f"bytes at {where} start with long low runs: the meter is "
                                f"slower, about {estimate:.0f} baud", baud=estimate,
                                baud_weight=60.0, max_baud=reader.baudrate / 1.5,
                                bound_weight=30.0)

    # Same speed, other framing.
    if reader.parity is Parity.NONE and 0.15 <= framing <= 0.85 and breaks < 0.3:
        fe = [b for b, f in zip(data, flags, strict=True) if f & ErrorFlag.FRAMING]
        ok = [b for b, f in zip(data, flags, strict=True) if not f & ErrorFlag.FRAMING]
        even_fe = sum(1 for b in fe if not b.bit_count() & 1) / len(fe)
        even_ok = sum(1 for b in ok if not b.bit_count() & 1) / (len(ok) or 1)
        for share, share_ok, par in ((even_fe, even_ok, Parity.EVEN),
                                     (1 - even_fe, 1 - even_ok, Parity.ODD)):
            if share >= 0.9 and share_ok <= 0.2:
                line = _frame(reader, 8, par)
                return Evidence(f"bytes arrive at {where} with framing errors on every byte "
                                f"of {par.value} parity: trying {line}",
                                family, fam_w, ((line, 90.0),), min_baud=reader.baudrate * 0.9,
                                max_baud=reader.baudrate * 1.1, bound_weight=20.0)
    if reader.parity is not Parity.NONE and parity >= 0.25 and framing < 0.1:
        pe = [b for b, f in zip(data, flags, strict=True) if f & ErrorFlag.PARITY]
        share_even = sum(1 for b in pe if not b.bit_count() & 1) / len(pe)
        exact: tuple[tuple[LineSettings, float], ...] = ()
        if parity >= 0.9:
            other = Parity.ODD if reader.parity is Parity.EVEN else Parity.EVEN
            exact = ((_frame(reader, reader.data_bits, other), 80.0),)
        elif share_even >= 0.9:
            exact = ((_frame(reader, 8, Parity.NONE), 80.0),
                     (LineSettings(reader.baudrate, 8, Parity.NONE, 2.0, reader.inverted),
                      80.0))
        if exact:
            return Evidence(f"bytes arrive at {where} with many parity errors: trying "
                            f"{exact[0][0]}", family, fam_w, exact,
                            min_baud=reader.baudrate * 0.5, bound_weight=10.0)
    if reader.data_bits == 8 and breaks < 0.05:
        seven = _seven_bit(data, reader)
        if seven is not None:
            return seven
    # Garbage: the meter is not slower. A wrong framing at the same speed has its own
    # signature (handled above), so garbage without one most likely comes from a faster
    # meter: faster speeds first, the same speed with another framing kept as a fallback.
    others = tuple((_frame(reader, 8, par), 10.0) for par in Parity if par is not reader.parity)
    return Evidence(f"garbage at {where} ({framing:.0%} framing, {parity:.0%} parity errors): "
                    "the meter is faster", family, fam_w, others,
                    min_baud=reader.baudrate * 1.5, bound_weight=25.0)


def _seven_bit(data: bytes, reader: LineSettings) -> Evidence | None:
    if len(set(data)) < 8:
        return None
    for odd, par in ((False, Parity.EVEN), (True, Parity.ODD)):
        if _p7_share(data, odd) >= 0.95:
            masked = bytes(b & 0x7F for b in data)
            text_like = sum(32 <= b < 127 or b in (10, 13) for b in masked) / len(masked)
            if sniff(masked).dsmr >= 0.5 or text_like >= 0.9:
                line = _frame(reader, 7, par)
                return Evidence(f"bytes at {reader} carry a parity bit on top: trying {line}",
                                Family.DSMR, 60.0, ((line, 95.0),))
    return None
