"""A bit-level UART line: bytes put on a wire at the meter's settings, sampled at the reader's.

The wire is a stream of levels in time. `Transmitter` turns bytes into that stream the way a
UART drives its TX pin (idle high, start bit low, data bits LSB first, optional parity, one,
one and a half or two stop bits; the whole line optionally inverted). `Receiver` samples the
stream the way a UART receiver does: it arms on a falling edge, checks the start bit at its
middle (a shorter pulse is rejected as a glitch), samples every data bit, the parity bit and
the first stop bit at their middles at its own baud rate, and reports each character with
its error flags: FRAMING (stop bit low), PARITY (parity bit wrong) and BREAK (start, data,
parity and stop bit all low: the line held low for a whole character). Only the first stop
bit is checked, as 16550-style receivers do. After a character the receiver re-arms at the
middle of that stop bit; a line that stays low produces no new character until it has been
high again (a falling edge is needed), so a long break gives one BREAK character.

Time is integer ticks of 1/TICK_HZ s. Every bit boundary and sampling instant is computed
from the character's own start edge with integer arithmetic, so a long stream accumulates
no rounding drift. The level stream is carried as `Levels` pieces: a start and end tick, the
level just before the start, and the instants at which the level toggles (run lengths, not one
object per bit). Pieces produced by a transmitter carry the bytes they encode
(`CleanSource`), and only those: their edges are computed the first time something asks for
them. A receiver that is idle and set exactly as that transmitter (baud rate, data bits,
parity, polarity) returns the bytes directly (the fast path), and the line monitor measures a
clean piece from its bytes, so a matched line never builds an edge. Everything else (wrong
settings, noise) goes through the sampling loop over the edges (the slow path), which gives
the same answer for equal settings (a property test holds them equal). Cutting a clean piece
moves two indexes into the transmission's bytes and copies nothing.

Faults on the wire (`Faults`): bytes dropped or with one bit flipped on the way, noise bursts
(spikes XOR-ed onto the line in a time window, deterministic per seed whatever the read
granularity), and silences (what the meter sends in the window never reaches the line). A
meter that changes its speed is `VirtualWire.meter_settings = ...`. `VirtualWire` ties a
transmitter, the faults and a receiver together for an in-process virtual line; it also
measures what a gateway's hardware can see electrically (`LineProbe`: the idle level and the
shortest pulse, from which a baud rate and the polarity follow).
"""

from meter_protocols.uart.faults import Faults, NoiseBurst, mangle, noise_edges, xor_edges
from meter_protocols.uart.levels import (
    STANDARD_BAUDRATES,
    TICK_HZ,
    CleanSource,
    ErrorFlag,
    Levels,
    UartError,
    to_seconds,
    to_ticks,
)
from meter_protocols.uart.transceiver import Received, Receiver, Transmitter, compatible
from meter_protocols.uart.wire import LineProbe, VirtualWire

__all__ = [
    "STANDARD_BAUDRATES",
    "TICK_HZ",
    "CleanSource",
    "ErrorFlag",
    "Faults",
    "Levels",
    "LineProbe",
    "NoiseBurst",
    "Received",
    "Receiver",
    "Transmitter",
    "UartError",
    "VirtualWire",
    "compatible",
    "mangle",
    "noise_edges",
    "to_seconds",
    "to_ticks",
    "xor_edges",
]
