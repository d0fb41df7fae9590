"""Issue 10, meter side: a virtual meter's push never dies, whatever its clock or values.

- A clock that jumps resynchronises the schedule: forward, one frame (no catch-up storm);
  back, the next frame within one interval (no silence as long as the jump).
- Any instant a clock can be set to (year 1 to year 9999) gives frames.
- Forced values: the simulator refuses what no meter register holds (ValueRangeError,
  a ValueError); whatever reaches an encoder anyway is sent as the register would hold it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys
from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.errors import ValueRangeError
from meter_protocols.kmp.poller import KmpPoller
from meter_protocols.obis import CATALOGUE, Quantity
from meter_protocols.readings import Event, FrameDecoded, MeterProtocol, Problem
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.simulator.state import MAX_FORCED, check_forced

ZURICH = ZoneInfo("Europe/Zurich")
START = datetime(2025, 1, 22, 11, 54, 2, tzinfo=ZURICH).timestamp()
PUSH = sorted(name for name, p in PROFILES.items() if p.mode == "push")
NUMERIC = sorted(code for code, info in CATALOGUE.items() if info.quantity is not Quantity.TEXT)


def run_until(meter: VirtualMeter, now: float, until: float | None = None) -> list[bytes]:
    """A driver's loop: its clock reads `now` (it woke, or was just set), then runs on to
    `until`; each frame is pushed when it falls due."""
    end = now if until is None else until
    frames: list[bytes] = []
    t = now
    for _ in range(10_000):
        due = meter.next_push_at(t)
        assert due is not None
        if due > end:
            return frames
        t = max(t, due)
        frames.append(meter.push(due))
    raise AssertionError("the meter keeps catching up")


# --- the schedule follows the clock ------------------------------------------------------

def test_clock_set_forward_a_day_gives_one_frame_then_the_cadence() -> None:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START)
    assert len(run_until(meter, START, START + 10.0)) == 10
    now = START + 10.0 + 86_400.0
    assert len(run_until(meter, now)) == 1  # not 86 400 frames of catch-up
    assert len(run_until(meter, now, now + 5.0)) == 5
    assert meter.skipped == 86_399


def test_clock_set_back_keeps_the_meter_talking() -> None:
    meter = VirtualMeter(get_profile("lg-e570"), seed=1, start=START)  # every 3 s
    run_until(meter, START, START + 600.0)
    now = START + 600.0 - 3_600.0  # an hour back
    due = meter.next_push_at(now)
    assert due is not None
    assert now < due <= now + 3.0  # the next frame comes within one interval
    assert len(run_until(meter, now, now + 30.0)) == 10


def test_a_late_frame_is_still_sent() -> None:
    # a scheduler that wakes a little late is no clock jump: the frame due goes out
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START)
    run_until(meter, START, START + 3.0)
    due = meter.next_push_at(START + 4.5)
    assert due == START + 4.0


def test_the_meter_clock_follows_a_clock_set_back() -> None:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START)
    energy = meter.snapshot(START + 3_600.0).values["1.8.0"]
    back = meter.snapshot(START)
    assert back.meter_time == datetime.fromtimestamp(START, ZURICH)
    assert back.values["1.8.0"] == energy  # a register never runs backwards


_ENDS = [datetime(1, 1, 1, tzinfo=UTC).timestamp(),  # the first instant a clock takes
         datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp(),  # and the last
         datetime(1, 1, 1, tzinfo=UTC).timestamp() - 86_400.0]  # a zone's offset before


@pytest.mark.parametrize(("name", "zone"), [
    *((name, "Europe/Zurich") for name in sorted(PROFILES)),
    ("ensor-ers", "America/New_York"),  # year 1 in UTC is year 0 here
    ("ensor-ers", "Pacific/Kiritimati"),  # year 9999 in UTC is year 10000 here
])
def test_any_instant_gives_frames(name: str, zone: str) -> None:
    profile = get_profile(name)
    meter = VirtualMeter(profile, seed=1, start=START, zone=ZoneInfo(zone))
    for now in _ENDS if zone != "Europe/Zurich" else _ENDS[:2]:
        if profile.mode == "push":
            frames = run_until(meter, now, now + 2 * profile.interval)
            assert frames
            assert all(frames)
        else:
            assert _kmp_cycle(meter, now) is not None
        assert meter.faults == 0


# --- forced values ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [1e308, MAX_FORCED * 1.01, -1.0, math.inf, math.nan, True,
                                   "12"])
def test_a_value_no_register_holds_is_refused(value: object) -> None:
    meter = VirtualMeter(get_profile("lg-e570"), seed=1, start=START)
    with pytest.raises(ValueRangeError, match=r"1\.8\.1"):
        meter.force({"1.8.1": value})
    assert issubclass(ValueRangeError, ValueError)
    assert meter.state.overrides == {}


def test_forcing_is_all_or_nothing_and_null_releases() -> None:
    meter = VirtualMeter(get_profile("lg-e570"), seed=1, start=START)
    meter.force({"1.7.0": 1500.0})
    with pytest.raises(ValueRangeError, match=r"99\.99\.99"):
        meter.force({"1.7.0": 10.0, "99.99.99": 1.0})
    assert meter.state.overrides == {"1.7.0": 1500.0}
    meter.force({"1.7.0": None, "32.7.0": MAX_FORCED})
    assert meter.state.overrides == {"32.7.0": MAX_FORCED}
    # the check alone changes nothing, for an API that checks a request before applying it
    assert check_forced({"1.8.0": 5, "2.8.0": None}) == {"1.8.0": 5.0, "2.8.0": None}
    assert meter.state.overrides == {"32.7.0": MAX_FORCED}


def _decode(profile_name: str, frames: list[bytes]) -> list[Event]:
    profile = get_profile(profile_name)
    if profile.protocol is MeterProtocol.DSMR:
        return DsmrDecoder(ZURICH).feed(b"".join(frames))
    keys = profile.keys
    decoder = DlmsDecoder(keys=DlmsKeys.from_hex(keys.encryption_key, keys.authentication_key)
                          if keys else None)
    return decoder.feed(b"".join(frames))


@pytest.mark.parametrize("name", PUSH)
@pytest.mark.parametrize("value", [1e308, 1e30, math.inf, -math.inf, math.nan, -5.0])
def test_a_push_never_dies_of_its_values(name: str, value: float) -> None:
    # values set around force() (the control API writes the overrides today) reach the
    # encoders: each sends what its register can hold, and the frame still decodes
    meter = VirtualMeter(get_profile(name), seed=1, start=START)
    meter.state.overrides.update(dict.fromkeys(NUMERIC, value))
    frames = run_until(meter, START, START + 3 * meter.profile.interval)
    assert frames
    assert all(frames)
    assert meter.faults == 0
    events = _decode(name, frames)
    readings = [e.reading for e in events if isinstance(e, FrameDecoded)]
    assert len(readings) == len(frames), [e for e in events if isinstance(e, Problem)]
    assert all(math.isfinite(v) for r in readings for v in r.values.values())


@pytest.mark.parametrize("value", [1e308, 1e30, math.inf, math.nan, -5.0])
def test_the_kmp_meter_answers_whatever_its_values(value: float) -> None:
    meter = VirtualMeter(get_profile("kamstrup-omnipower"), seed=1, start=START)
    meter.state.overrides.update(dict.fromkeys(NUMERIC, value))
    values = _kmp_cycle(meter, START)
    assert values is not None
    assert all(math.isfinite(v) for v in values.values())
    assert meter.faults == 0
    assert meter.profile.responder is not None


def _kmp_cycle(meter: VirtualMeter, now: float) -> dict[str, float] | None:
    """One poll cycle of a gateway against the meter; the values read, or None."""
    poller = KmpPoller(start=now, gap=0.0)
    t = now
    for _ in range(50):
        request = poller.poll(t)
        if request:
            for event in poller.feed(meter.receive(request, t), t):
                if isinstance(event, FrameDecoded):
                    return dict(event.reading.values)
        t = poller.next_deadline()
    return None
