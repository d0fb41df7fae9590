"""The detector's deadline is a promise: when tick() is called at that time it acts, so the
deadline moves on. A deadline that tick() does not act on makes the supervisor wake at once
again and again (a busy loop). Found with noise on the line: while a burst was open the
window's end (already past) was offered, and `now - last >= gap` missed `now == last + gap`
by a rounding error."""

from __future__ import annotations

import random

import pytest

from meter_protocols.detect import DetectConfig, LinkDetector

#: Noise-like reads: (gap before the read in seconds, bytes)
GAPS = (0.1, 0.3, 0.4, 0.5, 1.0, 2.5)


@pytest.mark.parametrize("seed", range(8))
def test_ticking_at_the_deadline_always_moves_it(seed: int) -> None:
    rng = random.Random(seed)
    detector = LinkDetector(DetectConfig())
    now = 0.9  # not a round number: sums of floats then round differently
    detector.start(now)
    stuck = 0
    for _ in range(400):
        # Either bytes arrive after a gap, or the supervisor sleeps until the deadline.
        deadline = detector.deadline
        gap = rng.choice(GAPS)
        if deadline is not None and (rng.random() < 0.5 or now + gap >= deadline):
            now = max(now, deadline)
            detector.tick(now)
            after = detector.deadline
            if after is not None and after <= now:
                stuck += 1
        else:
            now += gap
            detector.received(rng.randbytes(rng.randint(1, 60)), now, None)
            detector.tick(now)
    assert stuck == 0
