"""What goes wrong between meter and reader: dropped and flipped bytes, noise, silence."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from meter_protocols.uart.levels import TICK_HZ, to_ticks


@dataclass(frozen=True, slots=True)
class NoiseBurst:
    """Spikes on the line from `start` for `duration` seconds, `rate` spikes per second, each
    between `min_width` and `max_width` seconds wide (XOR-ed onto the signal)."""

    start: float
    duration: float
    rate: float = 2000.0
    min_width: float = 20e-6
    max_width: float = 300e-6


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong between meter and reader. Rates are per byte, 0..1."""

    drop_rate: float = 0.0
    flip_rate: float = 0.0
    noise: tuple[NoiseBurst, ...] = ()
    silences: tuple[tuple[float, float], ...] = ()  # (start, end): nothing the meter sends arrives

    def silent_at(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.silences)


def mangle(data: bytes, faults: Faults, rng: random.Random) -> bytes:
    """Drop bytes and flip one bit of others, at the fault rates."""
    if not data or (faults.drop_rate <= 0 and faults.flip_rate <= 0):
        return data
    out = bytearray()
    for byte in data:
        if faults.drop_rate > 0 and rng.random() < faults.drop_rate:
            continue
        flip = faults.flip_rate > 0 and rng.random() < faults.flip_rate
        out.append(byte ^ (1 << rng.randrange(8)) if flip else byte)
    return bytes(out)


_NOISE_BUCKET: Final = TICK_HZ // 100  # noise is drawn per 10 ms, so chunking does not matter


def noise_edges(burst: NoiseBurst, index: int, seed: int, start: int, end: int) -> list[int]:
    """The toggles `burst` puts on the line in [start, end): spikes that begin inside the
    burst, both of their toggles counted wherever they fall. Deterministic per seed and
    independent of how the stream is cut into pieces."""
    burst_lo = to_ticks(burst.start)
    burst_hi = to_ticks(burst.start + burst.duration)
    wmin, wmax = to_ticks(burst.min_width), max(to_ticks(burst.max_width), 1)
    lo = max(start - wmax, burst_lo)
    hi = min(end, burst_hi)
    if lo >= hi:
        return []
    per_bucket = burst.rate / 100
    out: list[int] = []
    for bucket in range(lo // _NOISE_BUCKET, (hi - 1) // _NOISE_BUCKET + 1):
        rng = random.Random((seed * 1_000_003 + index) * 1_000_003 + bucket)
        count = int(per_bucket) + (rng.random() < per_bucket % 1)
        base = bucket * _NOISE_BUCKET
        for _ in range(count):
            t = base + rng.randrange(_NOISE_BUCKET)
            w = rng.randint(wmin, wmax)
            if not burst_lo <= t < burst_hi:
                continue
            out.extend(edge for edge in (t, t + w) if start <= edge < end)
    return out


def xor_edges(a: tuple[int, ...] | list[int], b: list[int]) -> tuple[int, ...]:
    """Toggle sets combined: the line toggles where either does; equal instants cancel."""
    merged = sorted([*a, *b])
    out: list[int] = []
    for t in merged:
        if out and out[-1] == t:
            out.pop()
        else:
            out.append(t)
    return tuple(out)


