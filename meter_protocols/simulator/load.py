"""A household's electrical load, and optionally its PV plant, as a function of time.

Deterministic: the same seed and the same instant always give the same sample, so two
runs of a virtual meter with the same seed and start time report the same values. The
shape is built from parts a household really has: standby, a daily profile with morning
and evening peaks, a fridge compressor cycling, appliance events (kettle, oven, washing
machine) drawn per ten-minute slot, and a small measurement noise.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LoadParams:
    standby_w: float = 140.0
    daily_peak_w: float = 900.0  # extra load at the evening peak
    fridge_w: float = 110.0
    appliance_w: tuple[float, ...] = (2000.0, 1200.0, 2200.0, 600.0)  # kettle, washer...
    appliance_chance: float = 0.18  # chance that a ten-minute slot starts an appliance
    pv_peak_w: float = 0.0  # 0: no PV plant
    pv_phases: int = 1  # the inverter feeds L1 only, or all three phases
    phase_weights: tuple[float, float, float] = (0.5, 0.3, 0.2)
    power_factor: float = 0.93  # of the household load (inductive)
    nominal_voltage: float = 230.0
    noise: float = 0.04  # relative measurement noise


@dataclass(frozen=True, slots=True)
class PhaseSample:
    """Instantaneous values at one moment. Active power signed: + import, - export."""

    active_w: tuple[float, float, float]
    reactive_var: tuple[float, float, float]
    voltage_v: tuple[float, float, float]
    frequency_hz: float


def _unit(seed: int, *key: int) -> random.Random:
    # A small, fast, deterministic generator per (seed, key): the instant or the slot.
    return random.Random(hash((seed, *key)) & 0xFFFFFFFFFFFF)


def _daily_shape(hour: float) -> float:
    """0..1: the share of the daily peak that is on at this hour of the local day."""
    morning = math.exp(-((hour - 7.5) ** 2) / 1.2)
    noon = 0.35 * math.exp(-((hour - 12.5) ** 2) / 2.0)
    evening = math.exp(-((hour - 19.5) ** 2) / 3.0)
    night = 0.05
    return min(1.0, night + 0.6 * morning + noon + evening)


def _pv_shape(local: datetime) -> float:
    """0..1: PV output relative to peak, by season and hour, before clouds."""
    day_of_year = local.timetuple().tm_yday
    season = 0.5 - 0.5 * math.cos(2 * math.pi * (day_of_year - 10) / 365.0)  # 0 winter, 1 summer
    half_day = 4.5 + 3.0 * season  # hours from solar noon to sunset
    hour = local.hour + local.minute / 60 + local.second / 3600
    x = (hour - 13.0) / half_day
    if abs(x) >= 1.0:
        return 0.0
    return float((0.45 + 0.55 * season) * math.cos(x * math.pi / 2) ** 1.5)


class LoadModel:
    """Samples the household at a given instant. Pure: the same instant gives the same
    sample (it remembers only the draws of the last slot, which depend on nothing else)."""

    def __init__(self, params: LoadParams, seed: int, phases: int = 3) -> None:
        self.params = params
        self.seed = seed
        self.phases = phases
        # The last slot's draws (pure functions of seed and slot; a generator seeded per
        # call costs more than the rest of a sample): (slot, power, start, length), (slot,
        # clouds).
        self._appliance_slot: tuple[int, float, int, int] | None = None
        self._cloud_slot: tuple[int, float] | None = None

    def sample(self, t: float, local: datetime) -> PhaseSample:
        p = self.params
        second = int(t)
        noise = _unit(self.seed, second)
        hour = local.hour + local.minute / 60 + local.second / 3600
        house = p.standby_w + p.daily_peak_w * _daily_shape(hour)
        house += self._fridge(second) + self._appliance(second)
        house *= 1.0 + p.noise * (2 * noise.random() - 1)

        weights = p.phase_weights if self.phases == 3 else (1.0, 0.0, 0.0)
        load = [house * w for w in weights]
        pv = self._pv(t, local, noise)
        pv_phases = 3 if (self.phases == 3 and p.pv_phases == 3) else 1
        gen = [pv / pv_phases if i < pv_phases else 0.0 for i in range(3)]

        active = tuple(load[i] - gen[i] for i in range(3))
        tan_phi = math.tan(math.acos(p.power_factor))
        reactive = tuple(load[i] * tan_phi * (0.9 + 0.2 * noise.random()) for i in range(3))
        volts = []
        for i in range(3):
            if i >= self.phases:
                volts.append(0.0)
                continue
            slow = 2.5 * math.sin(2 * math.pi * (t / 5400.0 + i / 3.0))
            drop = 0.25 * active[i] / p.nominal_voltage  # 0.25 ohm of supply impedance
            volts.append(p.nominal_voltage + slow - drop + 0.4 * (2 * noise.random() - 1))
        freq = 50.0 + 0.02 * math.sin(2 * math.pi * t / 600.0) + 0.005 * noise.random()
        active3 = (active[0], active[1], active[2])
        reactive3 = (reactive[0], reactive[1], reactive[2])
        return PhaseSample(active3, reactive3, (volts[0], volts[1], volts[2]), freq)

    def _fridge(self, second: int) -> float:
        # 45-minute cycle, compressor on for the first 15 minutes, phase set by the seed.
        offset = self.seed % 2700
        return self.params.fridge_w if (second + offset) % 2700 < 900 else 0.0

    def _appliance(self, second: int) -> float:
        slot = second // 600
        drawn = self._appliance_slot
        if drawn is None or drawn[0] != slot:
            drawn = self._appliance_slot = self._draw_appliance(slot)
        _, power, start, length = drawn
        return power if start <= second < start + length else 0.0

    def _draw_appliance(self, slot: int) -> tuple[int, float, int, int]:
        rng = _unit(self.seed, 0x5107, slot)
        if rng.random() >= self.params.appliance_chance:
            return slot, 0.0, 0, 0
        power = rng.choice(self.params.appliance_w)
        length = rng.randint(90, 540)
        start = slot * 600 + rng.randint(0, 600 - 90)
        return slot, power, start, length

    def _pv(self, t: float, local: datetime, noise: random.Random) -> float:
        if self.params.pv_peak_w <= 0:
            return 0.0
        shape = _pv_shape(local)
        if shape <= 0.0:
            return 0.0
        slot = int(t) // 300
        if self._cloud_slot is None or self._cloud_slot[0] != slot:
            cloud = _unit(self.seed, 0xC10D, slot).random()
            self._cloud_slot = (slot, 1.0 if cloud > 0.3 else 0.35 + cloud)
        clouds = self._cloud_slot[1]
        return self.params.pv_peak_w * shape * clouds * (0.98 + 0.04 * noise.random())
