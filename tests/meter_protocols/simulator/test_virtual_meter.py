"""The virtual meter: deterministic, physically consistent, household-like."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meter_protocols.dsmr.decoder import DsmrDecoder
from meter_protocols.readings import FrameDecoded
from meter_protocols.simulator.load import LoadModel, LoadParams
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.simulator.state import MeterState, swiss_double_tariff

ZURICH = ZoneInfo("Europe/Zurich")
# Wednesday 22 January 2025, 11:54:02 local: the moment of the manual's Ensor example.
START = datetime(2025, 1, 22, 11, 54, 2, tzinfo=ZURICH).timestamp()


def run(meter: VirtualMeter, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        due = meter.next_push_at()
        assert due is not None
        out.append(meter.push(due))
    return out


def test_same_seed_and_start_give_the_same_frames() -> None:
    a = run(VirtualMeter(get_profile("ensor-ers"), seed=5, start=START), 30)
    b = run(VirtualMeter(get_profile("ensor-ers"), seed=5, start=START), 30)
    c = run(VirtualMeter(get_profile("ensor-ers"), seed=6, start=START), 30)
    assert a == b
    assert a != c


def test_frames_come_on_the_profile_cadence() -> None:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START)
    times = []
    for _ in range(5):
        due = meter.next_push_at()
        assert due is not None
        times.append(due)
        meter.push(due)
    assert [round(b - a, 9) for a, b in itertools.pairwise(times)] == [1.0] * 4


def test_ensor_frames_decode_to_the_manuals_identity_and_field_set() -> None:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START)
    events = DsmrDecoder(ZURICH).feed(b"".join(run(meter, 3)))
    readings = [e.reading for e in events if isinstance(e, FrameDecoded)]
    assert len(readings) == 3
    r = readings[-1]
    assert r.identity.meter_id == "20000741"
    assert r.identity.logical_name == "ESR51030712084367"
    assert r.identity.model == "1ESR0012084367"
    assert (r.identity.vendor, r.identity.prefix) == ("Ensor", "ESR")
    assert r.protocol_version == "5.0"
    assert set(r.values) == {
        "1.8.1", "1.8.2", "2.8.1", "2.8.2", "1.7.0", "2.7.0",
        "32.7.0", "52.7.0", "72.7.0", "31.7.0", "51.7.0", "71.7.0",
        "21.7.0", "41.7.0", "61.7.0", "22.7.0", "42.7.0", "62.7.0",
    }
    assert r.tariff == 1  # a Wednesday before noon: high tariff
    assert r.meter_time == datetime(2025, 1, 22, 11, 54, 5, tzinfo=ZURICH)


def test_energy_is_the_integral_of_power() -> None:
    state = MeterState(LoadModel(LoadParams(), seed=3), START, ZURICH)
    first = state.advance(START)
    powers = []
    t = START
    for _ in range(3600):
        t += 1.0
        snap = state.advance(t)
        powers.append(snap.values["1.7.0"])
    used = snap.values["1.8.0"] - first.values["1.8.0"]
    mean_power_wh = sum(powers) / len(powers)  # W over one hour = Wh
    assert used == pytest.approx(mean_power_wh, rel=0.02)
    assert snap.values["1.8.0"] == pytest.approx(snap.values["1.8.1"] + snap.values["1.8.2"])


def test_phase_powers_add_up_and_currents_follow() -> None:
    state = MeterState(LoadModel(LoadParams(), seed=3), START, ZURICH)
    v = state.advance(START + 10).values
    assert v["21.7.0"] + v["41.7.0"] + v["61.7.0"] == pytest.approx(v["1.7.0"], rel=1e-9)
    for p, i, u in ((21, 31, 32), (41, 51, 52), (61, 71, 72)):
        apparent = (v[f"{p}.7.0"] ** 2 + v[f"{p + 2}.7.0"] ** 2) ** 0.5
        assert v[f"{i}.7.0"] == pytest.approx(apparent / v[f"{u}.7.0"], rel=1e-9)
        assert 220 < v[f"{u}.7.0"] < 240


def test_a_day_looks_like_a_household() -> None:
    midnight = datetime(2025, 1, 22, 0, 0, tzinfo=ZURICH).timestamp()
    model = LoadModel(LoadParams(), seed=11)
    samples = [sum(model.sample(midnight + s, datetime.fromtimestamp(midnight + s, ZURICH))
                   .active_w) for s in range(0, 86400, 60)]
    night = samples[2 * 60:4 * 60]  # 02:00-04:00
    evening = samples[18 * 60:21 * 60]
    assert 80 < min(samples) < 400  # standby never vanishes
    assert max(samples) > 1500  # appliances switch on
    assert sum(evening) / len(evening) > 2 * sum(night) / len(night)


def test_pv_exports_at_summer_noon_and_not_at_night() -> None:
    params = LoadParams(pv_peak_w=6000.0)
    night = datetime(2025, 6, 21, 1, 0, tzinfo=ZURICH).timestamp()
    noon = datetime(2025, 6, 21, 13, 0, tzinfo=ZURICH).timestamp()
    state = MeterState(LoadModel(params, seed=2), night, ZURICH)
    assert state.advance(night).values["2.7.0"] == 0
    exported = state.advance(noon)
    assert exported.values["2.7.0"] > 1000
    assert exported.values["2.8.0"] > 0  # the morning's export was counted


def test_a_large_clock_jump_stays_cheap_and_consistent() -> None:
    state = MeterState(LoadModel(LoadParams(), seed=2), START, ZURICH)
    before = state.advance(START).values["1.8.0"]
    after = state.advance(START + 365 * 86400).values["1.8.0"]
    assert 500_000 < after - before < 20_000_000  # a year of a household, in Wh


def test_swiss_tariff_schedule() -> None:
    assert swiss_double_tariff(datetime(2025, 1, 22, 7, 0, tzinfo=ZURICH)) == 1
    assert swiss_double_tariff(datetime(2025, 1, 22, 20, 0, tzinfo=ZURICH)) == 2
    assert swiss_double_tariff(datetime(2025, 1, 25, 12, 0, tzinfo=ZURICH)) == 1  # Saturday
    assert swiss_double_tariff(datetime(2025, 1, 25, 13, 0, tzinfo=ZURICH)) == 2
    assert swiss_double_tariff(datetime(2025, 1, 26, 12, 0, tzinfo=ZURICH)) == 2  # Sunday


def test_corrupted_frames_are_caught_by_the_decoder() -> None:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START)
    meter.corrupt_frames = 2
    events = DsmrDecoder(ZURICH).feed(b"".join(run(meter, 4)))
    assert sum(isinstance(e, FrameDecoded) for e in events) == 2


def test_a_silent_meter_sends_nothing() -> None:
    meter = VirtualMeter(get_profile("ensor-ers"), seed=1, start=START)
    meter.silent = True
    assert run(meter, 3) == [b"", b"", b""]


def test_every_profile_has_a_documented_source_and_sane_line() -> None:
    for profile in PROFILES.values():
        assert profile.source and profile.title
        assert profile.interval > 0
        assert (profile.encoder is not None) == (profile.mode == "push")


def test_maximum_demand_from_running_sums_equals_the_exact_sums(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The demand window keeps running sums; with RESUM = 1 it sums the samples exactly at
    every step, as it did before. Both give the same maximum demand, also after the clock
    was set back (the window starts anew) and over more steps than the re-summing period."""
    def run() -> list[dict[str, float]]:
        state = MeterState(LoadModel(LoadParams(), seed=7), START, ZURICH)
        seen = []
        t = START
        for step in range(2600):
            t += 1.0 if step != 1300 else -600.0
            values = state.advance(t).values
            seen.append({k: values[k] for k in ("1.6.0", "2.6.0", "1.6.1", "1.6.2")})
        return seen

    running = run()
    monkeypatch.setattr("meter_protocols.simulator.state.RESUM", 1)
    exact = run()
    assert any(v["1.6.0"] > 0 for v in exact)
    for a, b in zip(running, exact, strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)


@given(st.lists(st.floats(min_value=0, max_value=3 * 86400), min_size=1, max_size=40))
def test_a_load_sample_depends_on_its_instant_only(offsets: list[float]) -> None:
    """The model remembers the last slot's draws: in any order, an instant samples as a
    fresh model samples it."""
    params = LoadParams(pv_peak_w=3000.0)
    shared = LoadModel(params, seed=11)
    for offset in offsets:
        t = START + offset
        local = datetime.fromtimestamp(t, ZURICH)
        assert shared.sample(t, local) == LoadModel(params, seed=11).sample(t, local)
