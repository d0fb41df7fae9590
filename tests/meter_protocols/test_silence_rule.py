"""The one silence rule (meter_protocols.status.silence_limit) and the interval estimate the
detector feeds it: one outage must not stretch the next silence's deadline."""

from __future__ import annotations

import pytest

from meter_protocols.detect.plan import SLOWEST_INTERVAL, Candidate
from meter_protocols.detect.sniff import Family
from meter_protocols.detect.window import Lock
from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface
from meter_protocols.status import SILENCE_MINIMUM, silence_limit


def lock_with_frames(times: list[float]) -> Lock:
    cand = Candidate(LineSettings(), Family.DSMR, Interface.P1, listen=11.0, reason="test")
    lock = Lock(cand, since=times[0], last_good=times[-1], last_byte=times[-1])
    lock.frame_times.extend(times)
    return lock


def test_the_rule_is_three_intervals_and_a_second_never_under_the_minimum() -> None:
    assert silence_limit(10.0) == pytest.approx(31.0)
    assert silence_limit(1.0) == SILENCE_MINIMUM
    assert silence_limit(0.0) == SILENCE_MINIMUM


def test_before_two_frames_the_familys_slowest_interval_stands_in() -> None:
    lock = lock_with_frames([100.0])
    assert lock.patience() == pytest.approx(silence_limit(SLOWEST_INTERVAL[Family.DSMR]))


def test_an_outage_does_not_stretch_the_next_deadline() -> None:
    # A 1 s meter, then a 30 s outage, then it sends again: the next silence must still be
    # judged on the meter's 1 s cadence, not on the outage.
    times = [float(t) for t in range(10)] + [40.0, 41.0]
    lock = lock_with_frames(times)
    assert lock.patience() == pytest.approx(silence_limit(1.0))
