"""Issue 10, meter side: seeded mutation fuzzing of every decoder (tests/meter_protocols/
fuzz.py; bench/bench_fuzz.py runs the same with 10^5 frames and timings).

A few thousand damaged frames per decoder, deterministic: no exception escapes, the net of
meter_protocols.guard never has to catch one, and no decoder holds more than a bounded
amount of unfinished input. No timings are asserted here.
"""

from __future__ import annotations

import pytest

from tests.meter_protocols.fuzz import BUFFER_BOUND, Target, run, targets

FRAMES = 2000
TARGETS = targets()


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_mutated_frames_never_raise_and_buffers_stay_bounded(target: Target) -> None:
    result = run(target, FRAMES, seed=10)
    assert result.frames == FRAMES
    assert result.escaped == 0, result.first_error
    assert result.faults == 0, result.first_error
    assert result.max_buffered <= BUFFER_BOUND
    if target.name not in ("kmp-meter", "sniff"):
        assert result.events > 0  # the frames were read, not ignored
